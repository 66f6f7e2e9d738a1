"""The ``connector-core`` command line: the interfaces floor, and the only place that prints.

``app`` holds the command group, the exit codes and the error guard; each ``*_verbs`` module holds one
group of verbs (connector verbs, sync verbs, sandbox and demo, authorization), imported only when one of
its commands runs so that start-up stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connector_core.cli.app import main


def run() -> None:
    """The ``connector-core`` executable: :func:`main` with the garbage collector tuned for one command
    (:mod:`connector_core.cli.collector`). In-process callers (tests, scripts) use ``main`` as is."""
    from connector_core.cli import collector

    collector.start_up()  # before the command line's own imports
    from connector_core.cli.app import main

    main()


def __getattr__(name: str) -> Any:
    if name == "main":  # imported on use, so that run() tunes the collector before click is imported
        from connector_core.cli.app import main

        return main
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["main", "run"]
