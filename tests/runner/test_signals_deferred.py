"""A stop signal that arrives during a commit takes effect when the commit is done, not half-way."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest

from connector_core.sync.signals import signals_deferred


class Stop(Exception):
    pass


def test_ctrl_c_inside_the_block_is_raised_when_it_ends() -> None:
    done = []
    with pytest.raises(KeyboardInterrupt):
        with signals_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            done.append("the rest of the block ran")
    assert done == ["the rest of the block ran"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


def test_a_handler_installed_by_the_caller_runs_after_the_block() -> None:
    def stop(signum: int, frame: Any) -> None:
        raise Stop(signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        order = []
        with pytest.raises(Stop):
            with signals_deferred():
                with signals_deferred():  # nested: held until the outer block ends
                    os.kill(os.getpid(), signal.SIGTERM)
                order.append("inner done")
            order.append("never")
        assert order == ["inner done"]
        assert signal.getsignal(signal.SIGTERM) is stop
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_nothing_arrives_nothing_happens() -> None:
    with signals_deferred():
        pass
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
