"""A corpus of malformed inputs, each run through the command line as a user would run it.

Every case is one ``connector-core`` command over the files in ``bad_inputs/`` (a spec, a connection
file, a config, an operation's input) or over a state database the case makes (empty, garbage, a
damaged write-ahead log, a directory ...). Each must:

- exit 1 (the documented code for a file or input to fix),
- name where the problem is: the file, and the line where the input has lines (``NAME:LINE:``),
- print no traceback and no "internal error",
- and change nothing: every file of the case's directory is as it was, byte for byte, and no file
  appears (no state database is created for a run that cannot start).

Each case runs in a copy of the corpus; the cases run a few at a time, so the module takes seconds.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

CORPUS = Path(__file__).with_name("bad_inputs")
ROOT = Path(__file__).resolve().parents[2]
STATE = "state.sqlite"


# -- what the cases make -------------------------------------------------------------------------------


def _garbage(size: int, seed: int = 10) -> bytes:
    return random.Random(seed).randbytes(size)


def _state_db(path: Path, rows: int = 0) -> None:
    """A healthy state database (one run, one cursor, ``rows`` ID map rows), checkpointed and closed."""
    from connector_core.sync.store import MappedRecord, SQLiteStateStore

    with SQLiteStateStore(path, "shop-copy") as store:
        run = store.start_run(False)
        store.finish_run(run, "ok", {"customers": {"read": rows, "created": rows}}, [])
        with store.batch() as tx:
            tx.set_cursor("customers", {"cursor": "2024-01-01T00:00:00Z"})
            for n in range(rows):
                tx.map_record(MappedRecord("customers", str(n), f"d{n}", f"shop-{n}", "h" * 40, 1.0, None, None))


def empty_state(directory: Path) -> None:
    (directory / STATE).write_bytes(b"")


def garbage_state(directory: Path) -> None:
    (directory / STATE).write_bytes(_garbage(8192))


def healthy_state(directory: Path) -> None:
    _state_db(directory / STATE)


def damaged_pages(directory: Path) -> None:
    """A real state database whose B-tree pages 2-4 were overwritten: only SQLite's own check sees it."""
    path = directory / STATE
    _state_db(path, rows=2000)
    with path.open("r+b") as handle:
        page = int.from_bytes(handle.read(18)[16:18], "big")
        handle.seek(page)
        handle.write(_garbage(3 * page))


def garbage_wal(directory: Path) -> None:
    """A killed run's state (commits still in the -wal file), whose log was then overwritten."""
    path = directory / STATE
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, status TEXT)")
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("INSERT INTO runs (status) VALUES ('ok')")
    conn.commit()
    wal = directory / f"{STATE}-wal"
    kept = {name: (directory / name).read_bytes() for name in (STATE, f"{STATE}-wal")}
    conn.close()  # the close checkpoints; put the files back as a kill -9 would have left them
    for name, data in kept.items():
        (directory / name).write_bytes(data)
    (directory / f"{STATE}-shm").unlink(missing_ok=True)
    wal.write_bytes(_garbage(len(kept[f"{STATE}-wal"])))


def short_wal(directory: Path) -> None:
    _state_db(directory / STATE)
    (directory / f"{STATE}-wal").write_bytes(b"\x37\x7f\x06")


def state_directory(directory: Path) -> None:
    (directory / STATE).mkdir()


def state_fifo(directory: Path) -> None:
    os.mkfifo(directory / STATE)


def secret_fifo(directory: Path) -> None:
    os.mkfifo(directory / "secret.fifo")


def a_directory(directory: Path) -> None:
    (directory / "statedir").mkdir()


def binary_key(directory: Path) -> None:
    (directory / "binary.key").write_bytes(b"\xff\xfe" + _garbage(64))


def huge_key(directory: Path) -> None:
    (directory / "huge.key").write_bytes(b"k" * (1024 * 1024 + 1))


# -- the cases -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One command, the location its error must name (``where``), and what it must also say."""

    id: str
    args: tuple[str, ...]
    where: str
    says: str = ""
    setup: Callable[[Path], None] | None = None
    as_user: bool = False  # needs file permissions to mean something (not root)


def validate(name: str, where: str, says: str = "", setup: Callable[[Path], None] | None = None) -> Case:
    return Case(f"validate-{name}", ("validate", name), where, says, setup)


RUN = ("run", "conn.yaml", "--state", STATE)
STATUS = ("status", "conn.yaml", "--state", STATE)
NS = ("-c", "netsuite.config.json")

CASES = [
    # connector specs: what validate passed and the run then tripped over
    validate("spec_records_wildcard.yaml", "spec_records_wildcard.yaml:7:14:", "a wildcard is a whole step"),
    validate("spec_records_jsonpath.yaml", "spec_records_jsonpath.yaml:7:14:", "looks like JSONPath"),
    validate("spec_selector_wildcard.yaml", "spec_selector_wildcard.yaml:8:13:", "a wildcard is a whole step"),
    validate("spec_primary_key_wildcard.yaml", "spec_primary_key_wildcard.yaml:8:19:", "has a wildcard"),
    validate("spec_operation_id_wildcard.yaml", "spec_operation_id_wildcard.yaml:8:16:", "has a wildcard"),
    validate("spec_cursor_made_by_set.yaml", "spec_cursor_made_by_set.yaml:8:21:", "('updated_at')"),
    validate("spec_cursor_made_by_rename.yaml", "spec_cursor_made_by_rename.yaml:8:13:", "use 'lastModified'"),
    validate("spec_cursor_nested_made_by_set.yaml", "spec_cursor_nested_made_by_set.yaml:9:14:", "made by transforms[0]"),
    validate("spec_set_empty_path.yaml", "spec_set_empty_path.yaml:9:15:", "'' is not a field path"),
    validate("spec_set_dot_path.yaml", "spec_set_dot_path.yaml:9:15:", "'.' is not a field path"),
    validate("spec_drop_empty_path.yaml", "spec_drop_empty_path.yaml:9:23:", "'' is not a field path"),
    validate("spec_rename_to_empty.yaml", "spec_rename_to_empty.yaml:9:25:", "'' is not a field name"),
    validate("spec_state_in_records_filter.yaml", "spec_state_in_records_filter.yaml:9:15:", "template uses 'state'"),
    validate("spec_input_in_transform.yaml", "spec_input_in_transform.yaml:9:22:", "template uses 'input'"),
    validate("spec_record_in_request.yaml", "spec_record_in_request.yaml:8:22:", "template uses 'record'"),
    validate("spec_state_since_without_cursor.yaml", "spec_state_since_without_cursor.yaml:8:22:", "uses state.since"),
    validate("spec_state_until_without_cursor.yaml", "spec_state_until_without_cursor.yaml:8:26:", "uses state.until"),
    validate("spec_check_request_and_stream.yaml", "spec_check_request_and_stream.yaml:5:3:", "not both"),
    validate("spec_input_pattern.yaml", "spec_input_pattern.yaml:10:39:", "not a valid regular expression"),
    validate("spec_config_pattern.yaml", "spec_config_pattern.yaml:7:37:", "not a valid regular expression"),
    validate("spec_pattern_properties.yaml", "spec_pattern_properties.yaml:10:9:", "not a valid regular expression"),
    validate("spec_record_schema_pattern.yaml", "spec_record_schema_pattern.yaml:11:40:", "not a valid regular expression"),
    validate("spec_cut_at_comma.yaml", "spec_cut_at_comma.yaml:10:64:", 'description: "Expand addresses, contacts and notes."'),
    validate("spec_cut_at_two_commas.yaml", "spec_cut_at_two_commas.yaml:7:64:", 'description: "Region of the account, e.g. eu, us or apac."'),
    validate("spec_timeout_overflow.yaml", "spec_timeout_overflow.yaml:5:12:", "too long a duration"),
    validate("spec_lookback_overflow.yaml", "spec_lookback_overflow.yaml:8:43:", "too long a duration"),
    validate("spec_long_number.yaml", "spec_long_number.yaml:5:16:", "5,001 digits"),
    validate("spec_long_number.json", "spec_long_number.json:4:14:", "5,001 digits"),
    validate("spec_deep_nesting.json", "spec_deep_nesting.json:", "nested too deeply"),
    # the same specs where they used to fail: at read and call time
    Case("read-records-wildcard", ("read", "spec_records_wildcard.yaml", "-c", "shop.config.yaml", "-s", "customers"), "spec_records_wildcard.yaml:7:14:"),
    Case("read-set-empty-path", ("read", "spec_set_empty_path.yaml", "-c", "shop.config.yaml", "-s", "customers"), "spec_set_empty_path.yaml:9:15:"),
    Case("call-input-pattern", ("call", "spec_input_pattern.yaml", "create_customer", "--input", '{"name": "x"}'), "spec_input_pattern.yaml:10:39:"),
    # connection files
    validate("conn_schedule_overflow.yaml", "conn_schedule_overflow.yaml:5:11:", "at most 366 days"),
    Case("run-schedule-overflow", ("run", "conn_schedule_overflow.yaml"), "conn_schedule_overflow.yaml:5:11:", "at most 366 days"),
    Case("status-schedule-overflow", ("status", "conn_schedule_overflow.yaml"), "conn_schedule_overflow.yaml:5:11:"),
    validate("conn_schedule_iso_overflow.yaml", "conn_schedule_iso_overflow.yaml:5:11:", "at most 366 days"),
    validate("conn_schedule_over_a_year.yaml", "conn_schedule_over_a_year.yaml:5:11:", "at most 366 days"),
    validate("conn_schedule_never_fires.yaml", "conn_schedule_never_fires.yaml:5:11:", "never fires"),
    validate("conn_state_is_directory.yaml", "conn_state_is_directory.yaml:5:8:", "is a directory", a_directory),
    Case("run-state-is-directory", ("run", "conn_state_is_directory.yaml"), "conn_state_is_directory.yaml:5:8:", "is a directory", a_directory),
    Case("run-state-missing-directory", ("run", "conn_state_missing_directory.yaml"), "no-such-dir/shop.sqlite", "mkdir -p"),
    validate("conn_cut_at_comma.yaml", "conn_cut_at_comma.yaml:6:47:", 'description: "Customers, with their emails"'),
    validate("conn_long_number.yaml", "conn_long_number.yaml:8:82:", "5,001 digits"),
    validate("conn_secret_dev_zero.yaml", "conn_secret_dev_zero.yaml:3:87:", "not a regular file"),
    Case("run-secret-dev-zero", ("run", "conn_secret_dev_zero.yaml"), "conn_secret_dev_zero.yaml:3:87:", "not a regular file"),
    # configs
    Case("check-config-long-number-yaml", ("check", "example", "-c", "config_long_number.yaml"), "config_long_number.yaml:4:13:", "5,001 digits"),
    Case("check-config-long-number-json", ("check", "example", "-c", "config_long_number.json"), "config_long_number.json:3:14:", "5,001 digits"),
    Case("check-config-deep-nesting", ("check", "example", "-c", "config_deep_nesting.json"), "config_deep_nesting.json:", "nested too deeply"),
    Case("check-config-dev-zero", ("check", "example", "-c", "/dev/zero"), "/dev/zero:", "larger than 16 MiB"),
    Case("check-secret-dev-zero", ("check", "example", "-c", "config_secret_dev_zero.yaml"), "config_secret_dev_zero.yaml:3:10:", "/dev/zero: not a regular file"),
    Case("check-secret-fifo", ("check", "example", "-c", "config_secret_fifo.yaml"), "config_secret_fifo.yaml:3:10:", "not a regular file", secret_fifo),
    Case("check-secret-directory", ("check", "example", "-c", "config_secret_directory.yaml"), "config_secret_directory.yaml:3:10:", "is a directory", a_directory),
    Case("check-secret-binary", ("check", "example", "-c", "config_secret_binary.yaml"), "config_secret_binary.yaml:3:10:", "not UTF-8", binary_key),
    Case("check-secret-too-big", ("check", "example", "-c", "config_secret_too_big.yaml"), "config_secret_too_big.yaml:3:10:", "larger than 1024 KiB", huge_key),
    # operation inputs (`call`); an input given inline has no lines: the location is the input's field
    Case("call-misspelt-key", ("call", "example", "create_customer", "-c", "shop.config.yaml", "--input", '{"name": "x", "nmae": "y"}'), "input: unknown key 'nmae'", "did you mean 'name'?"),
    Case("call-input-file-misspelt-key", ("call", "example", "create_customer", "-c", "shop.config.yaml", "--input", "@input_unknown_key.yaml"), "input: unknown key 'emial'", "did you mean 'email'?"),
    Case("call-netsuite-expand-subresources", ("call", "netsuite", "get_record", *NS, "--input", '{"record_type": "customer", "record_id": 1, "expand_subresources": true}'),
         "input: unknown key 'expand_subresources'", "did you mean 'expand_sub_resources'?"),
    Case("call-netsuite-pagination-limit", ("call", "netsuite", "list_records", *NS, "--input", '{"record_type": "customer", "pagination_limit": 5}'),
         "input: unknown key 'pagination_limit'", "did you mean 'limit'?"),
    Case("call-netsuite-file-data-base64", ("call", "netsuite", "raw_request", *NS, "--input", '{"url": "/customer", "method": "POST", "file_data": {"report": "base64:%%%"}}'),
         "input.file_data.report:", "not valid base64"),
    Case("call-input-long-number", ("call", "example", "create_customer", "-c", "shop.config.yaml", "--input", '{"name": ' + "7" * 5001 + "}"), "--input", "5001 digits"),
    Case("call-input-file-long-number", ("call", "example", "create_customer", "-c", "shop.config.yaml", "--input", "@input_long_number.json"), "input_long_number.json:3:14:", "5,001 digits"),
    # state databases: run and status must both refuse, write nothing and say what to do
    Case("run-state-empty", RUN, STATE, "--reset-state", empty_state),
    Case("status-state-empty", STATUS, STATE, "empty (0 bytes)", empty_state),
    Case("run-state-garbage", RUN, STATE, "not a SQLite database", garbage_state),
    Case("status-state-garbage", STATUS, STATE, "not a SQLite database", garbage_state),
    Case("run-state-damaged-pages", RUN, STATE, "damaged", damaged_pages),
    Case("status-state-damaged-pages", STATUS, STATE, "damaged", damaged_pages),
    Case("run-state-garbage-wal", RUN, f"{STATE}-wal", "silently roll the state back", garbage_wal),
    Case("status-state-garbage-wal", STATUS, f"{STATE}-wal", "silently roll the state back", garbage_wal),
    Case("run-state-short-wal", RUN, f"{STATE}-wal", "shorter than a log's header", short_wal),
    Case("run-state-is-directory-option", RUN, STATE, "is a directory", state_directory),
    Case("status-state-is-directory-option", STATUS, STATE, "is a directory", state_directory),
    Case("run-state-is-fifo", RUN, STATE, "not a regular file", state_fifo),
    Case("run-state-missing-directory-option", ("run", "conn.yaml", "--state", "nowhere/state.sqlite"), "nowhere/state.sqlite", "does not exist"),
    Case("run-state-under-a-file", ("run", "conn.yaml", "--state", "conn.yaml/state.sqlite"), "conn.yaml/state.sqlite", "is not a directory"),
    Case("run-reset-state-of-a-healthy-state", (*RUN, "--reset-state"), STATE, "healthy", healthy_state),
    Case("run-state-read-only", RUN, STATE, "cannot be written", healthy_state, as_user=True),
]


# -- running them --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str
    before: dict[str, str]
    after: dict[str, str]


def _snapshot(directory: Path) -> dict[str, str]:
    """Every entry under ``directory``: a file's SHA-256, or the kind of anything else (a FIFO is not read)."""
    found = {}
    for path in sorted(directory.rglob("*")):
        mode = path.lstat().st_mode
        name = str(path.relative_to(directory))
        if stat.S_ISREG(mode):
            found[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[name] = "directory" if stat.S_ISDIR(mode) else "special"
    return found


def _run(case: Case, base: Path) -> Outcome:
    directory = base / case.id
    shutil.copytree(CORPUS, directory)
    if case.setup is not None:
        case.setup(directory)
    if case.as_user:
        for path in directory.iterdir():
            if path.name.startswith(STATE):
                path.chmod(0o444)
    before = _snapshot(directory)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "connector_core", *case.args], cwd=directory, capture_output=True, text=True, timeout=60, env=env
    )
    return Outcome(done.returncode, done.stdout, done.stderr, before, _snapshot(directory))


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    base = tmp_path_factory.mktemp("bad_inputs")
    runnable = [case for case in CASES if not (case.as_user and os.geteuid() == 0)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip([c.id for c in runnable], pool.map(lambda case: _run(case, base), runnable), strict=True))


def test_the_corpus_is_large_and_every_file_is_used() -> None:
    assert len(CASES) >= 50
    assert len({case.id for case in CASES}) == len(CASES), "two cases share an id"
    named = {arg.lstrip("@") for case in CASES for arg in case.args}
    shared = {"README.md", "shop.config.yaml", "netsuite.config.json", "conn.yaml"}
    unused = sorted(p.name for p in CORPUS.iterdir() if p.name not in named | shared)
    assert unused == [], "corpus files no case runs"


# the first case pays for the module's fixture: 78 CLI processes, 4 at a time (over 120 s on a loaded 2-core machine)
@pytest.mark.timeout(900)
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_a_bad_input_is_a_located_error_that_changes_nothing(case: Case, outcomes: dict[str, Outcome]) -> None:
    if case.id not in outcomes:
        pytest.skip("file permissions do not bind root")
    outcome = outcomes[case.id]
    shown = f"exit {outcome.code}\nstderr:\n{outcome.stderr[-3000:]}"
    assert "Traceback" not in outcome.stderr, shown
    assert "internal error" not in outcome.stderr, shown
    assert outcome.code == 1, shown
    assert case.where in outcome.stderr, shown
    assert case.says in outcome.stderr, shown
    if case.as_user:  # a reader of a WAL database may add its -shm and -wal files; the database is untouched
        assert outcome.after[STATE] == outcome.before[STATE], f"the state file changed:\n{shown}"
    else:
        assert outcome.after == outcome.before, f"files changed:\n{shown}"
