"""connector-core's pytest plugin: recorded HTTP cassettes with secrets scrubbed, and connector fixtures.

pytest loads this module through the ``pytest11`` entry point whenever connector-core is installed, so
every project that tests a connector gets, without any ``conftest.py``:

* ``connector_vcr``: a :class:`vcr.VCR` whose cassettes live in ``cassettes/`` beside the test module.
  It replays only (``record_mode="none"``); ``pytest --record-cassettes`` re-records. A project may
  change the default with the ``connector_record_mode`` ini option (the scaffold uses ``once``).
* ``connector_cassette``: the test's own cassette (``cassettes/<module>/<test>.yaml``), active for the
  whole test; ``cassette_path`` is its file.
* ``cassette_scrubber``: what is masked before anything is written. Secret headers, OAuth 1.0a
  parameters, token fields of form and JSON bodies, every secret of the connectors opened through
  ``load_connector``, and whatever the test adds with ``cassette_scrubber.add(value)``.
* ``load_connector``, ``read_stream``, ``call_operation``: open a connector (closed at teardown), read a
  stream into a list, run a write operation.
* :func:`assert_cassette_has_no_secrets`: fails naming every place a secret was found.

Requests match on method, path, query and body, after scrubbing and without the parameters that change
on every call (OAuth nonces, timestamps and signatures). Scheme, host and port are not compared, so a
cassette recorded against an emulator on one port replays against any other, or against none.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import vcr

from connector_core.testing import StreamRead, call_operation, read_stream
from connector_core.testing.cassettes import RECORD_MODES, CassetteScrubber, SerialSession, make_vcr

if TYPE_CHECKING:
    from connector_core.engine.connector import Connector
    from connector_core.engine.registry import Registry


def _cassette_name(node: pytest.Item) -> str:
    test = re.sub(r"[^A-Za-z0-9_.\-]+", "_", node.name).strip("_")
    module = Path(str(node.fspath)).stem
    return f"{module}/{test}.yaml"


# --- pytest plugin ------------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("connector-core", "connector-core cassettes")
    group.addoption(
        "--record-cassettes",
        action="store_true",
        default=False,
        help="re-record connector cassettes against the live API (default: replay only)",
    )
    parser.addini(
        "connector_record_mode",
        f"vcrpy record mode of connector cassettes when --record-cassettes is not given: {', '.join(RECORD_MODES)}",
        default="none",
    )


def pytest_configure(config: pytest.Config) -> None:
    _record_mode(config)  # a misspelt mode stops the session before any test runs
    config.addinivalue_line(
        "markers", "cassette(name): use this cassette file (relative to cassettes/) for the test"
    )


def _record_mode(config: pytest.Config) -> str:
    if config.getoption("--record-cassettes"):
        return "all"
    mode = str(config.getini("connector_record_mode") or "none").strip()
    if mode not in RECORD_MODES:
        raise pytest.UsageError(
            f"connector_record_mode = {mode!r}; expected one of {', '.join(RECORD_MODES)}"
        )
    return mode


@pytest.fixture
def cassette_scrubber() -> CassetteScrubber:
    """The test's scrubber; ``cassette_scrubber.add(value)`` masks one more secret."""
    return CassetteScrubber()


@pytest.fixture
def connector_vcr(request: pytest.FixtureRequest, cassette_scrubber: CassetteScrubber) -> vcr.VCR:
    """A configured :class:`vcr.VCR`; cassettes live in ``cassettes/`` beside the test module."""
    directory = Path(str(request.node.fspath)).parent / "cassettes"
    return make_vcr(directory, record_mode=_record_mode(request.config), scrubber=cassette_scrubber)


@pytest.fixture
def cassette_path(request: pytest.FixtureRequest, connector_vcr: vcr.VCR) -> Path:
    """The file of the test's cassette: ``cassettes/<module>/<test>.yaml``, or the ``cassette`` marker's."""
    marker = request.node.get_closest_marker("cassette")
    name = str(marker.args[0]) if marker and marker.args else _cassette_name(request.node)
    return Path(connector_vcr.cassette_library_dir) / name


@pytest.fixture
def connector_cassette(connector_vcr: vcr.VCR, cassette_path: Path) -> Iterator[Any]:
    """Run the test inside its cassette (written, if recording, at teardown)."""
    if connector_vcr.record_mode == "none" and not cassette_path.exists():
        pytest.fail(
            f"cassette {cassette_path} does not exist; record it against the API with `pytest --record-cassettes`",
            pytrace=False,
        )
    with connector_vcr.use_cassette(str(cassette_path)) as cassette:
        yield cassette


@pytest.fixture
def load_connector(
    request: pytest.FixtureRequest, cassette_scrubber: CassetteScrubber
) -> Iterator[Callable[..., Connector]]:
    """Factory: ``load_connector(spec, config, plugins=[...])`` → an open Connector, closed at teardown.

    ``spec`` is an installed connector name or a spec path. Without ``registry``, one is built from the
    built-ins, the installed plugins (unless ``entry_points=False``) and ``plugins``. The connector's
    secrets are scrubbed from the test's cassettes. The connector sends its requests one at a time (see
    :class:`SerialSession`): under a cassette, concurrent requests (pages, partitions, windows) could
    otherwise slip past vcrpy, whether it records or replays.
    """
    from connector_core.engine.connector import Connector

    opened: list[Connector] = []

    def load(
        spec: str | Path,
        config: Mapping[str, Any] | str | Path | None = None,
        *,
        registry: Registry | None = None,
        plugins: Iterable[Any] = (),
        entry_points: bool = True,
        **kwargs: Any,
    ) -> Connector:
        if registry is None:
            from connector_core.engine.registry import build_registry, make_plugin_manager

            registry = build_registry(make_plugin_manager(entry_points=entry_points, plugins=plugins))
        if "session" not in kwargs:
            kwargs["session"] = SerialSession()
        connector = Connector.open(spec, config, registry=registry, **kwargs)
        cassette_scrubber.watch(connector.redactor)
        opened.append(connector)
        return connector

    yield load
    for connector in reversed(opened):
        connector.close()


@pytest.fixture(name="read_stream")
def read_stream_fixture() -> Callable[..., StreamRead]:
    """``read_stream(connector, stream, state=None, limit=None)`` → :class:`StreamRead`."""
    return read_stream


@pytest.fixture(name="call_operation")
def call_operation_fixture() -> Callable[..., Any]:
    """``call_operation(connector, operation, payload)`` → the operation's output."""
    return call_operation
