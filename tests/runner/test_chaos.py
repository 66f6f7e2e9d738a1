"""customers_both_ways.yaml through a fault-injecting proxy in front of both emulators (issue 10 §2).

10 % of requests get a 503, 5 % a 429, 5 % a dropped connection (half of them after the API acted) and
5 % a slow body. The sync must still end exact on both sides: no duplicate, nothing missing, every
write-back present. How much time the faults cost is measured in benchmarks/chaos_sync.py, not here.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from finance_support import Finance, assert_customers_exact_both_ways

from connector_core.cli.demo import EXAMPLES, point_at_emulators
from connector_core.plugins import Registry
from connector_core.testing.chaos import Chaos, ChaosProxy
from connectors.crm.emulator import HubSpotEmulator, HubSpotSettings
from connectors.netsuite.emulator import EmulatorSettings, NetSuiteEmulator

pytestmark = pytest.mark.slow

#: issue 10's mix, but with drops and slow bodies at 5 %: over the ~140 requests of this run, 2 % and 3 % left
#: 6 % and 1.4 % of runs with none of them (seen in CI), and the test is there to meet every kind
MIX = {"server_error": 0.10, "throttle": 0.05, "drop": 0.05, "slow": 0.05, "slow_seconds": 0.3}


@pytest.fixture
def hubspot() -> Iterator[HubSpotEmulator]:
    with HubSpotEmulator(HubSpotSettings(companies=300, contacts=0, deals=0, rate_limit_per_10s=100_000)) as emulator:
        yield emulator


@pytest.fixture
def netsuite() -> Iterator[NetSuiteEmulator]:
    with NetSuiteEmulator(EmulatorSettings(customers=50, items=3, sales_orders=0, invoices=0)) as emulator:
        yield emulator


def test_the_customer_sync_is_exact_through_a_chaotic_network(
    tmp_path: Path, hubspot: HubSpotEmulator, netsuite: NetSuiteEmulator, registry: Registry
) -> None:
    seed = random.randrange(1_000_000)
    sync = Finance("customers_both_ways.yaml", tmp_path, hubspot, netsuite, registry)
    crm_customers = {c["id"] for c in sync.companies() if c.get("lifecyclestage") == "customer"}
    seeded_ns = {str(r["id"]) for r in sync.suiteql("SELECT id FROM customer WHERE isinactive = 'F'")}
    with ChaosProxy(hubspot.url, Chaos(**MIX, seed=seed)) as hs_proxy, ChaosProxy(netsuite.url, Chaos(**MIX, seed=seed + 1)) as ns_proxy:
        configs = {
            "hubspot": {"access_token": hubspot.token, "base_url": hs_proxy.url},
            "netsuite": {"account_id": netsuite.settings.account_id, "base_url": ns_proxy.url, **netsuite.credentials()["tba"]},
        }
        point_at_emulators([EXAMPLES / "customers_both_ways.yaml"], tmp_path / "connections", configs)
        results = [sync.run()]
        while results[-1].status == "api_error" and len(results) < 4:  # a request unlucky 8 times in a row: rerun resumes
            results.append(sync.run())
        assert results[-1].status == "ok", (seed, results[-1].errors)
        faults = hs_proxy.injected + ns_proxy.injected
    assert all(faults[kind] > 0 for kind in ("server_error", "throttle", "slow")), (seed, faults)
    assert faults["drop_before"] + faults["drop_after"] > 0, (seed, faults)

    assert_customers_exact_both_ways(sync, crm_customers, seeded_ns, seed)
    with sync.store() as store:
        assert store.outbox() == [] and store.dead_letters() == []
