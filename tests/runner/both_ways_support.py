"""The end state a customers-both-ways connection must reach, whichever CRM is on the other side
(a uniquely named module: `conftest` modules clash under one name).

HubSpot (finance_support.py) and Salesforce (test_kill_salesforce.py) differ only in how their records
are read, the external-id prefix the flow gives NetSuite customers and the field the write-back lands in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any


def assert_paired_exactly(
    rows: list[dict[str, Any]],
    prefix: str,
    crm: Mapping[str, Mapping[str, Any]],
    write_back: str,
    crm_customers: set[str],
    seeded_ns: set[str],
    seed: int,
    *,
    one: str,
    many: str,
) -> dict[str, str]:
    """One NetSuite customer per CRM customer (``rows``: id and externalid ``<prefix><CRM id>``), none twice;
    every CRM customer carries its NetSuite id in ``write_back``; one CRM record (of ``crm``, by id) per NetSuite
    customer. ``one``/``many`` name the CRM's records in messages. Returns {CRM id: NetSuite id}."""
    per_external_id = Counter(r["externalid"] for r in rows)
    assert [eid for eid, n in per_external_id.items() if n > 1] == [], (
        f"seed {seed}: duplicate NetSuite customers"
    )
    assert set(per_external_id) == {f"{prefix}{cid}" for cid in crm_customers}, (
        f"seed {seed}: missing NetSuite customers"
    )
    ns_id_of = {r["externalid"][len(prefix) :]: str(r["id"]) for r in rows}
    lacking = [cid for cid in crm_customers if crm.get(cid, {}).get(write_back) != ns_id_of[cid]]
    assert lacking == [], f"seed {seed}: {len(lacking)} {many} lack their write-back"
    per_ns_id = Counter(record[write_back] for record in crm.values() if record.get(write_back))
    assert [i for i, n in per_ns_id.items() if n > 1] == [], f"seed {seed}: duplicate {many}"
    assert seeded_ns <= set(per_ns_id), f"seed {seed}: NetSuite customers without {one}"
    return ns_id_of


__all__ = ["assert_paired_exactly"]
