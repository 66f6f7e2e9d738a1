"""``connector-core ui``: a small web dashboard over the sync state the CLI reads and writes.

:mod:`.state_view` reads the connections and their state, :mod:`.charts` draws them, :mod:`.jobs` runs
the actions in the background through the runner (:mod:`.retry` for dead-letter retries),
:mod:`.security` signs people in and guards every form, :mod:`.app` is the WSGI application and
:mod:`.server` serves it. The command is in :mod:`connector_core.cli.ui_verbs`; the user's guide is
docs/dashboard.md.
"""
