"""Progress bars on stderr, shown only where a person is watching a terminal."""

from __future__ import annotations

import sys
from typing import Any


def progress_bar(label: str) -> Any:
    from contextlib import contextmanager

    @contextmanager
    def bar() -> Any:
        if not sys.stderr.isatty():
            yield lambda count: None
            return
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed} records"), TimeElapsedColumn(), transient=False, console=stderr_console()) as progress:
            task = progress.add_task(label, total=None)
            yield lambda count: progress.update(task, completed=count)

    return bar()


def stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


__all__ = ["progress_bar", "stderr_console"]
