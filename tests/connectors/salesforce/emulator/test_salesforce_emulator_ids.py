"""15- and 18-character record ids: the case-safe checksum and reading ids back in any case."""

from __future__ import annotations

from salesforce_emulator_support import Org

from connectors.crm.salesforce_emulator.ids import IdFactory, canonical_id, checksum, to18


def test_checksum_matches_salesforce_documented_example() -> None:
    assert checksum("001A0000006Vm9r") == "IAC"
    assert to18("001A0000006Vm9r") == "001A0000006Vm9rIAC"


def test_an_all_lower_case_chunk_encodes_as_a() -> None:
    assert checksum("000000000000000") == "AAA"
    assert checksum("ABCDEABCDEABCDE") == "555"


def test_an_18_character_id_in_any_case_names_the_same_record() -> None:
    real = "001A0000006Vm9rIAC"
    assert canonical_id(real.lower()) == real
    assert canonical_id(real.upper()) == real
    assert canonical_id("001A0000006Vm9r") == real


def test_malformed_ids_are_refused() -> None:
    assert canonical_id("001A0000006Vm9") is None
    assert canonical_id("001A0000006Vm9r!!!") is None
    assert canonical_id("001A0000006Vm9rIA9") is None  # 9 is not in the suffix alphabet


def test_issued_ids_are_unique_18_character_and_mix_case() -> None:
    factory = IdFactory()
    ids = [factory.new("001") for _ in range(500)]
    assert len(set(ids)) == 500
    assert all(len(i) == 18 and i.startswith("0015g") and canonical_id(i) == i for i in ids)
    assert any(i[:15] != i[:15].upper() and i[:15] != i[:15].lower() for i in ids)


def test_the_api_takes_both_lengths_and_any_case(org: Org) -> None:
    account = org.records("SELECT Id, Name FROM Account LIMIT 1")[0]
    for form in (account["Id"], account["Id"][:15], account["Id"].lower()):
        reply = org.get(f"/sobjects/Account/{form}")
        assert reply.status_code == 200, reply.text
        assert reply.json()["Id"] == account["Id"]
    rows = org.records(f"SELECT Id FROM Account WHERE Id = '{account['Id'][:15]}'")
    assert [r["Id"] for r in rows] == [account["Id"]]
