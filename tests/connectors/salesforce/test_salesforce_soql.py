"""The Salesforce template filters on their own: SOQL literals and names, and 15/18-character ids."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.crm.salesforce_soql import (
    id18,
    soql_date,
    soql_datetime,
    soql_fields,
    soql_like,
    soql_list,
    soql_name,
    soql_string,
    without,
)


class TestLiterals:
    @pytest.mark.parametrize(
        ("value", "literal"),
        [
            ("Acme", "'Acme'"),
            ("O'Brien", "'O\\'Brien'"),
            ("back\\slash", "'back\\\\slash'"),
            ('say "hi"', "'say \\\"hi\\\"'"),
            ("two\nlines\ttab", "'two\\nlines\\ttab'"),
            (None, "null"),
            (42, "'42'"),
        ],
    )
    def test_strings_use_backslash_escapes(self, value: object, literal: str) -> None:
        assert soql_string(value) == literal

    def test_like_matches_wildcards_literally(self) -> None:
        assert soql_like("50%_off's") == "'50\\%\\_off\\'s'"

    def test_date_times_are_utc_to_the_second_rounded_down_or_up(self) -> None:
        moment = "2024-03-01T10:00:00.250+01:00"
        assert soql_datetime(moment) == "2024-03-01T09:00:00Z"
        assert soql_datetime(moment, up=True) == "2024-03-01T09:00:01Z"
        assert soql_datetime(dt.datetime(2024, 3, 1, 9, tzinfo=dt.UTC), up=True) == "2024-03-01T09:00:00Z"

    def test_dates(self) -> None:
        assert soql_date("2024-02-29") == "2024-02-29"
        assert soql_date(dt.date(2024, 1, 5)) == "2024-01-05"
        assert soql_date("2024-01-05T23:30:00-02:00") == "2024-01-06"

    def test_in_lists(self) -> None:
        assert soql_list(["a", "b'c"]) == "('a', 'b\\'c')"
        with pytest.raises(ValueError):
            soql_list([])


class TestNames:
    def test_api_names_and_relationship_paths_pass(self) -> None:
        assert soql_name("NetSuite_Id__c") == "NetSuite_Id__c"
        assert soql_fields(["Id", "Name", "Account.Name", "NAME"]) == "Id, Name, Account.Name"

    @pytest.mark.parametrize("bad", ["Name FROM User", "Id,Name", "1Field", "Name--", "Account..Name", ""])
    def test_anything_else_is_refused(self, bad: str) -> None:
        with pytest.raises(ValueError):
            soql_fields([bad])

    def test_an_object_name_with_a_space_is_refused(self) -> None:
        with pytest.raises(ValueError, match="not a Salesforce API name"):
            soql_name("Account WHERE")

    def test_without_drops_keys_in_any_case(self) -> None:
        assert without({"Name": "x", "netsuite_id__c": "7"}, "NetSuite_Id__c") == {"Name": "x"}


class TestIds:
    @pytest.mark.parametrize(
        ("short", "full"),
        [("001A0000006Vm9r", "001A0000006Vm9rIAC"), ("0015000000Gv7qJ", "0015000000Gv7qJAAR"), ("005zzzzzzzzzzzz", "005zzzzzzzzzzzzAAA")],
    )
    def test_15_and_18_character_forms_name_one_record(self, short: str, full: str) -> None:
        assert id18(short) == full and id18(full) == full

    def test_a_wrong_checksum_or_length_is_refused(self) -> None:
        with pytest.raises(ValueError, match="checksum"):
            id18("001A0000006Vm9rAAA")
        with pytest.raises(ValueError, match="15 or 18"):
            id18("001A0000006Vm9")
