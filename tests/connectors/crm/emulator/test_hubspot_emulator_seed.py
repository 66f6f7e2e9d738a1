"""Deterministic seeding."""

from __future__ import annotations

import time

from connectors.crm.emulator import HubSpotEmulator, HubSpotSettings
from connectors.crm.emulator.hubspot import HubSpotApp


def _dump(app: HubSpotApp) -> dict:
    state = app.state
    return {
        t: [(o.id, o.props, o.created_ms, o.updated_ms) for o in state.stores[t].objects.values()]
        for t in ("companies", "contacts", "deals")
    } | {"assoc": {k: {tt: {i: sorted(s) for i, s in v.items()} for tt, v in d.items()}
                   for k, d in state.associations.edges.items()}}


def test_same_seed_same_data_different_seed_differs() -> None:
    settings = {"companies": 40, "contacts": 60, "deals": 30}
    a = _dump(HubSpotApp(HubSpotSettings(seed=7, **settings)))
    b = _dump(HubSpotApp(HubSpotSettings(seed=7, **settings)))
    c = _dump(HubSpotApp(HubSpotSettings(seed=8, **settings)))
    assert a == b
    assert a != c


def test_seed_sizes_and_shapes() -> None:
    emu = HubSpotEmulator(HubSpotSettings(companies=12, contacts=9, deals=5))
    assert (emu.count("companies"), emu.count("contacts"), emu.count("deals")) == (12, 9, 5)
    state = emu.state
    for t in ("companies", "contacts", "deals"):
        for obj in state.stores[t].objects.values():
            assert obj.props["hs_object_id"] == str(obj.id)
            assert all(isinstance(v, str) for v in obj.props.values())
    for deal in state.stores["deals"].objects.values():
        assert emu.associated_ids("deals", deal.id, "companies")
    emails = [o.props["email"] for o in state.stores["contacts"].objects.values()]
    assert len(set(emails)) == len(emails)
    assert max(state.stores["companies"].objects) > 2**31


def test_shared_timestamp_option() -> None:
    app = HubSpotApp(HubSpotSettings(companies=30, contacts=0, deals=0, seed_same_timestamp=20))
    stamps = [o.props["hs_lastmodifieddate"] for o in app.state.stores["companies"].objects.values()]
    assert max(stamps.count(s) for s in set(stamps)) == 20


def test_fifty_thousand_companies_seed_quickly() -> None:
    t0 = time.monotonic()
    app = HubSpotApp(HubSpotSettings(companies=50_000, contacts=0, deals=0))
    elapsed = time.monotonic() - t0
    assert app.state.stores["companies"].count() == 50_000
    assert elapsed < 5, elapsed
