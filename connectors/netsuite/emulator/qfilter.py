"""The record-list ``q`` filter language (fact sheet §3), compiled to an SQLite WHERE clause.

Grammar: ``cond ((AND|OR) cond)*`` with parentheses; ``cond`` is ``field OP [value]``. Values
are quoted strings, numbers, ``true``/``false`` or bracketed lists ``[a, b]``. Dates use the
account date preference; anything else is 400 "Unparseable date". String matches ignore case,
as NetSuite's do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .dates import date_store, parse_pref
from .errors import NsError, invalid_parameter
from .schema import Field, RecordType

_TOKEN = re.compile(r'\s*(?:("(?:[^"\\]|\\.)*")|(\'(?:[^\'\\]|\\.)*\')|([()\[\],])|([^\s()\[\],"\']+))')

_STRING_OPS = {"IS", "CONTAIN", "START_WITH", "END_WITH", "EMPTY"}
_NUMBER_OPS = {
    "EQUAL", "GREATER", "GREATER_OR_EQUAL", "LESS", "LESS_OR_EQUAL", "BETWEEN", "ANY_OF", "WITHIN", "EMPTY",
}
_DATE_OPS = {"AFTER", "BEFORE", "ON", "ON_OR_AFTER", "ON_OR_BEFORE", "WITHIN", "EMPTY"}
_BOOL_OPS = {"IS"}
_NO_VALUE = {"EMPTY"}


def _q_error(detail: str) -> NsError:
    return invalid_parameter(f"Invalid query parameter 'q'. {detail}", query_param="q")


class _Parser:
    def __init__(
        self, text: str, rt: RecordType, column_sql: Callable[[Field], str], date_pref: str
    ) -> None:
        self.tokens = self._tokenize(text)
        self.pos = 0
        self.rt = rt
        self.column_sql = column_sql
        self.date_pref = date_pref
        self.params: list[Any] = []

    @staticmethod
    def _tokenize(text: str) -> list[str]:
        tokens: list[str] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m or m.end() == pos:
                raise _q_error(f"Unexpected character at position {pos}.")
            tokens.append(next(g for g in m.groups() if g is not None))
            pos = m.end()
            while pos < len(text) and text[pos].isspace():
                pos += 1
        return tokens

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        tok = self.peek()
        if tok is None:
            raise _q_error("Unexpected end of query.")
        self.pos += 1
        return tok

    def parse(self) -> str:
        sql = self.expr()
        if self.peek() is not None:
            raise _q_error(f"Unexpected token '{self.peek()}'.")
        return sql

    def expr(self) -> str:
        parts = [self.term()]
        while (tok := self.peek()) is not None and tok.upper() == "OR":
            self.take()
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def term(self) -> str:
        parts = [self.factor()]
        while (tok := self.peek()) is not None and tok.upper() == "AND":
            self.take()
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def factor(self) -> str:
        if self.peek() == "(":
            self.take()
            inner = self.expr()
            if self.take() != ")":
                raise _q_error("Missing closing parenthesis.")
            return f"({inner})"
        return self.condition()

    def value(self) -> Any:
        tok = self.take()
        if tok[0] in "\"'":
            return tok[1:-1].replace('\\"', '"').replace("\\'", "'")
        if tok == "[":
            items = []
            while True:
                items.append(self.value())
                sep = self.take()
                if sep == "]":
                    return items
                if sep != ",":
                    raise _q_error("Expected ',' or ']' in a value list.")
        return tok

    def condition(self) -> str:
        name = self.take()
        f = self.rt.field(name)
        if f is None or not f.filterable:
            raise _q_error(f"The field '{name}' is not a filterable field of record type '{self.rt.name}'.")
        op_raw = self.take().upper()
        negate = op_raw.endswith("_NOT")
        op = op_raw[:-4] if negate else op_raw
        col = self.column_sql(f)
        if op in _NO_VALUE:
            sql = f"({col} IS NULL OR {col} = '')"
        else:
            sql = self._compare(f, col, op, self.value())
        return f"NOT COALESCE({sql}, 0)" if negate else sql

    def _compare(self, f: Field, col: str, op: str, value: Any) -> str:
        kind = f.kind
        if kind == "string":
            if op not in _STRING_OPS:
                raise _q_error(f"Operator {op} is not valid for the string field '{f.name}'.")
            text = str(value)
            if op == "IS":
                self.params.append(text)
                return f"{col} = ? COLLATE NOCASE"
            pattern = {"CONTAIN": "%{}%", "START_WITH": "{}%", "END_WITH": "%{}"}[op]
            escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            self.params.append(pattern.format(escaped))
            return f"{col} LIKE ? ESCAPE '\\'"
        if kind == "boolean":
            if op not in _BOOL_OPS:
                raise _q_error(f"Operator {op} is not valid for the boolean field '{f.name}'.")
            truth = str(value).lower()
            if truth not in ("true", "false", "t", "f"):
                raise _q_error(f"Invalid boolean value '{value}'.")
            self.params.append("T" if truth in ("true", "t") else "F")
            return f"COALESCE({col}, 'F') = ?"
        if kind in ("date", "datetime"):
            return self._date(f, col, op, value)
        if op not in _NUMBER_OPS:
            raise _q_error(f"Operator {op} is not valid for the field '{f.name}'.")
        values = value if isinstance(value, list) else [value]
        nums = [self._number(v) for v in values]
        if op == "ANY_OF":
            self.params.extend(nums)
            return f"{col} IN ({','.join('?' * len(nums))})"
        if op in ("BETWEEN", "WITHIN"):
            if len(nums) != 2:
                raise _q_error(f"{op} needs two values.")
            self.params.extend(nums)
            return f"{col} BETWEEN ? AND ?"
        sym = {"EQUAL": "=", "GREATER": ">", "GREATER_OR_EQUAL": ">=", "LESS": "<", "LESS_OR_EQUAL": "<="}[op]
        self.params.append(nums[0])
        return f"{col} {sym} ?"

    @staticmethod
    def _number(value: Any) -> float:
        try:
            return float(value)
        except (TypeError, ValueError):
            raise _q_error(f"Invalid number '{value}'.") from None

    def _date(self, f: Field, col: str, op: str, value: Any) -> str:
        if op not in _DATE_OPS:
            raise _q_error(f"Operator {op} is not valid for the date field '{f.name}'.")
        values = value if isinstance(value, list) else [value]
        days = []
        for v in values:
            d = parse_pref(str(v), self.date_pref)
            if d is None:
                raise invalid_parameter(f'Unparseable date: "{v}"', query_param="q")
            days.append(d)
        start, end = date_store(days[0]), date_store(days[0], 1)
        if op == "WITHIN":
            if len(days) != 2:
                raise _q_error("WITHIN needs two dates.")
            self.params.extend([start, date_store(days[1], 1)])
            return f"({col} >= ? AND {col} < ?)"
        sql, param = {
            "AFTER": (f"{col} >= ?", end),
            "ON_OR_AFTER": (f"{col} >= ?", start),
            "BEFORE": (f"{col} < ?", start),
            "ON_OR_BEFORE": (f"{col} < ?", end),
        }.get(op, ("", ""))
        if op == "ON":
            self.params.extend([start, end])
            return f"({col} >= ? AND {col} < ?)"
        self.params.append(param)
        return sql


def compile_q(
    text: str, rt: RecordType, column_sql: Callable[[Field], str], date_pref: str
) -> tuple[str, list[Any]]:
    """Compile ``q`` for ``rt`` into ``(sql, params)``; raises 400 INVALID_PARAMETER on errors."""
    parser = _Parser(text, rt, column_sql, date_pref)
    sql = parser.parse()
    return sql, parser.params
