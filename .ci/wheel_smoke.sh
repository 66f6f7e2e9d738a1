#!/usr/bin/env bash
# The built wheel as a user gets it: a fresh venv, run from a directory outside the checkout, so nothing
# resolves through the source tree. Checks the entry points, the package data (installed specs, the
# plugin templates, the example connections), a read against the bundled emulators over loopback, an
# example connection run by hand against the sandbox as the docs say, and the demo; then runs the whole
# test suite against that installation.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
sandbox_pid=""
cleanup() { if [ -n "$sandbox_pid" ]; then kill "$sandbox_pid" 2>/dev/null || true; fi; rm -rf "$work"; }  # a sandbox that already stopped must not skip the rm (set -e)
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

# an example connection by hand, as docs/connections.md "By hand" says (the venv active, from here): the
# installed package's examples copied, the sandbox's configs written into the copy's config/ folder
. "$work/venv/bin/activate"
examples="$(python -c 'from connector_core.cli.demo import EXAMPLES; print(EXAMPLES)')"
case "$examples" in
  "$work/venv/"*) ;;
  *) echo "wheel smoke: the example connections resolve to $examples, not to the installed wheel"; exit 1 ;;
esac
cp -r "$(python -c 'from connector_core.cli.demo import EXAMPLES; print(EXAMPLES)')" my-sync
connector-core sandbox --config-dir my-sync/config 2> "$work/sandbox-by-hand.log" &
sandbox_pid=$!
for _ in $(seq 1 100); do
  grep -qs base_url my-sync/config/netsuite.json && grep -qs base_url my-sync/config/hubspot.json && break
  kill -0 "$sandbox_pid" 2>/dev/null || break  # it stopped (a port in use...): its log says why
  sleep 0.2
done
grep -qs base_url my-sync/config/netsuite.json && grep -qs base_url my-sync/config/hubspot.json \
  || { cat "$work/sandbox-by-hand.log"; echo "wheel smoke: the sandbox did not point my-sync/config at the emulators"; exit 1; }
connector-core validate my-sync 2> "$work/validate.err" \
  || { cat "$work/validate.err"; echo "wheel smoke: 'connector-core validate my-sync' failed"; exit 1; }
by_hand=0
connector-core run my-sync/customers_both_ways.yaml > "$work/by-hand.out" 2> "$work/by-hand.err" || by_hand=$?
[ "$by_hand" -eq 0 ] && grep -q "connection customers-both-ways: ok" "$work/by-hand.err" && grep -Eq "created [1-9]" "$work/by-hand.err" \
  || { tail -40 "$work/by-hand.err"; echo "wheel smoke: 'connector-core run my-sync/customers_both_ways.yaml' by hand exited $by_hand without creating records (expected exit 0)"; exit 1; }
kill "$sandbox_pid" 2>/dev/null; wait "$sandbox_pid" 2>/dev/null || true; sandbox_pid=""
deactivate

# the main job, as a user of the wheel runs it: the example connections ship inside the package
"$cli" demo > "$work/demo.out" 2> "$work/demo.err" || { tail -40 "$work/demo.err"; echo "wheel smoke: demo failed"; exit 1; }
grep -q "customers-both-ways: ok" "$work/demo.err" || { tail -40 "$work/demo.err"; echo "wheel smoke: demo did not run customers-both-ways"; exit 1; }
echo "wheel smoke: ok (installed wheel read $records NetSuite customers and $companies HubSpot companies from the bundled emulators; ran customers_both_ways.yaml by hand against the sandbox; demo ran every example connection)"

# the whole test suite against the installed wheel (not the checkout): pytest's own script, so the
# checkout is not on sys.path and every import resolves to site-packages
"$work/venv/bin/pip" install -q "$(ls "$work"/dist/connector_core-*.whl)[test]"
cd "$repo"
"$work/venv/bin/pytest" -q -p no:randomly
