"""The SOQL subset's parser: what it accepts, and where it says a query stops making sense."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from connectors.crm.salesforce_emulator.soql_parser import (
    BoolOp,
    Comparison,
    DateLiteral,
    Not,
    SoqlSyntaxError,
    parse,
    pointer_message,
)


def test_fields_relationships_where_order_limit_offset() -> None:
    q = parse("SELECT Id, Name, Account.Owner.Email FROM Contact WHERE Name = 'x' "
              "ORDER BY LastName DESC NULLS FIRST, Id LIMIT 10 OFFSET 5")
    assert [p.parts for p in q.fields] == [("Id",), ("Name",), ("Account", "Owner", "Email")]
    assert q.sobject == "Contact" and q.limit == 10 and q.offset == 5
    assert [(o.path.text, o.descending, o.nulls_last) for o in q.order] == [("LastName", True, False), ("Id", False, False)]


def test_keywords_are_case_insensitive_and_count_only() -> None:
    q = parse("select count() from Account where isdeleted = TRUE")
    assert q.count_only and q.fields == ()
    assert q.where == Comparison(q.where.path, "=", (True,))  # type: ignore[union-attr]


def test_literals_of_every_kind() -> None:
    q = parse("SELECT Id FROM Opportunity WHERE Amount IN (1, 2.5, -3) AND CloseDate >= 2024-02-29 "
              "AND SystemModstamp < 2024-03-01T10:00:00.000+0100 AND Name != null AND Name LIKE 'It\\'s%' "
              "AND CloseDate = LAST_N_DAYS:30 AND IsWon = false")
    assert isinstance(q.where, BoolOp) and q.where.operator == "AND"
    values = [c.values for c in q.where.operands if isinstance(c, Comparison)]
    assert values == [
        (Decimal("1"), Decimal("2.5"), Decimal("-3")),
        (date(2024, 2, 29),),
        (datetime(2024, 3, 1, 9, 0, tzinfo=UTC),),
        (None,),
        ("It's%",),
        (DateLiteral("LAST_N_DAYS", 30),),
        (False,),
    ]


def test_parentheses_not_and_or() -> None:
    q = parse("SELECT Id FROM Account WHERE (Type = 'Partner' OR NOT Industry = 'Retail') AND Name <> 'x'")
    assert isinstance(q.where, BoolOp) and q.where.operator == "AND"
    inner = q.where.operands[0]
    assert isinstance(inner, BoolOp) and inner.operator == "OR" and isinstance(inner.operands[1], Not)
    assert q.where.operands[1] == Comparison(q.where.operands[1].path, "!=", ("x",))  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("query", "line", "column", "detail"),
    [
        ("SELECT Id FROM Account WHERE", 1, 29, "unexpected end of query"),
        ("SELECT Id FROM Account WHERE Name == 'x'", 1, 36, "unexpected token: '='"),
        ("SELECT Id FROM Account GROUP BY Name", 1, 24, "unexpected token: 'GROUP'"),
        # SOQL wants parentheses where AND and OR meet
        ("SELECT Id FROM Account WHERE Name = 'a' AND Type = 'b' OR Type = 'c'", 1, 56, "unexpected token: 'OR'"),
        ("SELECT Id FROM Account WHERE Name = 'x' # y", 1, 41, "no viable alternative at character '#'"),
        ("SELECT Id\nFROM Account\nWHERE Name = 'x' LIMIT", 3, 23, "unexpected end of query"),
        ("SELECT Id, (SELECT Id FROM Contacts) FROM Account", 1, 12, "unexpected token: '('"),
    ],
)
def test_unsupported_syntax_names_row_and_column(query: str, line: int, column: int, detail: str) -> None:
    with pytest.raises(SoqlSyntaxError) as caught:
        parse(query)
    assert (caught.value.line, caught.value.column, caught.value.detail) == (line, column, detail)


def test_pointer_message_puts_a_caret_under_the_column() -> None:
    text = pointer_message("SELECT Id FROM Account WHERE", 1, 29, "unexpected end of query")
    assert text == ("\nSELECT Id FROM Account WHERE\n" + " " * 28 + "^\nERROR at Row:1:Column:29\n"
                    "unexpected end of query")


def test_field_names_that_begin_with_a_keyword_stay_field_names() -> None:
    q = parse("SELECT Country__c, Notes__c FROM Account WHERE NOT Notes__c = null AND Order__c IN (1) "
              "AND Nullable__c = TRUE ORDER BY Ascending__c DESC, Nulls__c NULLS LAST LIMIT 1")
    assert [p.text for p in q.fields] == ["Country__c", "Notes__c"]
    assert isinstance(q.where, BoolOp)
    first, second, third = q.where.operands
    assert isinstance(first, Not) and first.operand.path.text == "Notes__c"  # type: ignore[union-attr]
    assert (second.path.text, second.operator) == ("Order__c", "IN")  # type: ignore[union-attr]
    assert third.values == (True,)  # type: ignore[union-attr]
    assert [(o.path.text, o.descending, o.nulls_last) for o in q.order] == [("Ascending__c", True, True),
                                                                            ("Nulls__c", False, True)]
