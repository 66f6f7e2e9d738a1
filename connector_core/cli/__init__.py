"""The ``connector-core`` command line: the interfaces floor, and the only place that prints.

``app`` holds the command group, the exit codes and the error guard; each ``*_verbs`` module holds one
group of verbs (connector verbs, sync verbs, sandbox and demo, authorization), imported only when one of
its commands runs so that start-up stays fast.
"""

from connector_core.cli.app import main

__all__ = ["main"]
