#!/usr/bin/env bash
# The built wheel as a user gets it: a fresh venv, run from a directory outside the checkout, so nothing
# resolves through the source tree. Checks the entry points, the package data (installed specs, the
# plugin templates, the example connections), a read against the bundled emulators over loopback and
# the demo; then runs the whole test suite against that installation.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
sandbox_pid=""
cleanup() { [ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$repo/.venv/bin/pip" wheel -q --no-deps -w "$work/dist" "$repo"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q "$work"/dist/connector_core-*.whl
cli="$work/venv/bin/connector-core"
cd "$work"

"$cli" --version
"$cli" plugins > "$work/plugins.txt"
grep -q "netsuite" "$work/plugins.txt"
"$cli" spec netsuite > /dev/null
"$cli" spec hubspot > /dev/null
"$cli" init-plugin smoke_plugin -d "$work/smoke_plugin" 2> /dev/null
test -f "$work/smoke_plugin/pyproject.toml"
"$work/venv/bin/python" -W error::DeprecationWarning -c "import connector_core.cli, connector_core.sync.runner, connector_core.testing.emulator, connector_core.plugins, connector_core.testing.cassettes"

"$cli" sandbox --config-dir "$work/sandbox" 2> "$work/sandbox.log" &
sandbox_pid=$!
for _ in $(seq 1 100); do
  [ -f "$work/sandbox/netsuite.json" ] && [ -f "$work/sandbox/hubspot.json" ] && break
  sleep 0.2
done
records=$("$cli" read netsuite -c "$work/sandbox/netsuite.json" -s customers --limit 5 | wc -l)
companies=$("$cli" read hubspot -c "$work/sandbox/hubspot.json" -s companies --limit 5 | wc -l)
[ "$records" -eq 5 ] && [ "$companies" -eq 5 ] || { cat "$work/sandbox.log"; echo "wheel smoke: read $records customers, $companies companies (expected 5 each)"; exit 1; }
kill "$sandbox_pid" 2>/dev/null; wait "$sandbox_pid" 2>/dev/null || true; sandbox_pid=""
# the main job, as a user of the wheel runs it: the example connections ship inside the package
"$cli" demo > "$work/demo.out" 2> "$work/demo.err" || { tail -40 "$work/demo.err"; echo "wheel smoke: demo failed"; exit 1; }
grep -q "customers-both-ways: ok" "$work/demo.err" || { tail -40 "$work/demo.err"; echo "wheel smoke: demo did not run customers-both-ways"; exit 1; }
echo "wheel smoke: ok (installed wheel read $records NetSuite customers and $companies HubSpot companies from the bundled emulators; demo ran every example connection)"

# the whole test suite against the installed wheel (not the checkout): pytest's own script, so the
# checkout is not on sys.path and every import resolves to site-packages
"$work/venv/bin/pip" install -q "$(ls "$work"/dist/connector_core-*.whl)[test]"
cd "$repo"
"$work/venv/bin/pytest" -q -p no:randomly
