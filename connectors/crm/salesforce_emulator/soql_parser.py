"""SOQL, the subset the emulator serves, parsed with lark into a small syntax tree.

Supported: ``SELECT`` fields (relationship paths such as ``Account.Name``) or ``COUNT()``, ``FROM``,
``WHERE`` with comparisons (``= != <> < <= > >=``), ``LIKE``, ``IN``/``NOT IN``, ``NOT``, ``AND``/``OR``
and parentheses (mixing ``AND`` and ``OR`` needs parentheses, as in SOQL), literals (strings, numbers,
dates, datetimes, ``true``/``false``/``null``, ``TODAY``, ``YESTERDAY``, ``LAST_N_DAYS:n``), ``ORDER BY``
(``ASC``/``DESC``, ``NULLS FIRST``/``LAST``), ``LIMIT`` and ``OFFSET``. Anything else is a
:class:`SoqlSyntaxError` with the row and column where parsing stopped, which the API reports as
``MALFORMED_QUERY``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from lark import (
    Lark,
    Token,
    Transformer,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    v_args,
)

from .values import parse_date, parse_datetime

_GRAMMAR = r"""
    start: _SELECT select_list _FROM NAME where? order? limit? offset?

    select_list: select_item ("," select_item)*
    ?select_item: count_all | path
    count_all: COUNT "(" ")"
    path: NAME ("." NAME)*

    where: _WHERE cond
    ?cond: unary | and_chain | or_chain
    and_chain: unary (_AND unary)+
    or_chain: unary (_OR unary)+
    ?unary: NOT unary                 -> negation
          | "(" cond ")"
          | comparison

    comparison: path OPERATOR value              -> compare
              | path LIKE value                  -> like
              | path IN "(" value ("," value)* ")"          -> in_list
              | path NOT IN "(" value ("," value)* ")"      -> not_in_list

    ?value: STRING -> string
          | DATETIME -> datetime_
          | DATE -> date_
          | NUMBER -> number
          | TRUE -> true
          | FALSE -> false
          | NULL -> null
          | DATE_LITERAL -> date_literal

    order: _ORDER _BY order_item ("," order_item)*
    order_item: path DIRECTION? NULLS_ORDER?
    limit: _LIMIT INT
    offset: _OFFSET INT

    // Keywords end at a word boundary, so field names that start with one (Country__c, Notes__c) stay names.
    _SELECT.2: /SELECT(?![A-Za-z0-9_])/i
    _FROM.2: /FROM(?![A-Za-z0-9_])/i
    _WHERE.2: /WHERE(?![A-Za-z0-9_])/i
    _AND.2: /AND(?![A-Za-z0-9_])/i
    _OR.2: /OR(?![A-Za-z0-9_])/i
    _ORDER.2: /ORDER(?![A-Za-z0-9_])/i
    _BY.2: /BY(?![A-Za-z0-9_])/i
    _LIMIT.2: /LIMIT(?![A-Za-z0-9_])/i
    _OFFSET.2: /OFFSET(?![A-Za-z0-9_])/i
    COUNT.2: /COUNT(?![A-Za-z0-9_])/i
    LIKE.2: /LIKE(?![A-Za-z0-9_])/i
    IN.2: /IN(?![A-Za-z0-9_])/i
    NOT.2: /NOT(?![A-Za-z0-9_])/i
    TRUE.2: /TRUE(?![A-Za-z0-9_])/i
    FALSE.2: /FALSE(?![A-Za-z0-9_])/i
    NULL.2: /NULL(?![A-Za-z0-9_])/i
    DIRECTION.2: /(ASC|DESC)(?![A-Za-z0-9_])/i
    NULLS_ORDER.2: /NULLS\s+(FIRST|LAST)(?![A-Za-z0-9_])/i
    DATE_LITERAL.3: /(TODAY|YESTERDAY|TOMORROW|LAST_N_DAYS:\d+|NEXT_N_DAYS:\d+)(?![A-Za-z0-9_])/i
    OPERATOR: "!=" | "<>" | "<=" | ">=" | "=" | "<" | ">"
    DATETIME.4: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})/
    DATE.3: /\d{4}-\d{2}-\d{2}/
    NUMBER: /[+-]?(\d+(\.\d*)?|\.\d+)/
    STRING: /'(\\.|[^'\\])*'/
    NAME: /[A-Za-z][A-Za-z0-9_]*/
    INT: /\d+/

    %import common.WS
    %ignore WS
"""

_PARSER = Lark(_GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "'": "'", '"': '"', "\\": "\\",
            "%": "\\%", "_": "\\_"}


class SoqlSyntaxError(ValueError):
    """The query is not in the supported SOQL subset; ``line``/``column`` are 1-based."""

    def __init__(self, query: str, line: int, column: int, detail: str) -> None:
        super().__init__(detail)
        self.query = query
        self.line = line
        self.column = column
        self.detail = detail


@dataclass(frozen=True)
class Path:
    """A field reference such as ``Name`` or ``Account.Owner.Email``, with where it starts."""

    parts: tuple[str, ...]
    line: int
    column: int

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class DateLiteral:
    """``TODAY``, ``YESTERDAY``, ``TOMORROW``, ``LAST_N_DAYS:n`` or ``NEXT_N_DAYS:n``."""

    name: str
    days: int = 0


#: A literal's Python value: str, Decimal, bool, None, date, datetime or a DateLiteral.
Literal = Any


@dataclass(frozen=True)
class Comparison:
    path: Path
    operator: str  # = != < <= > >= LIKE IN NOT IN
    values: tuple[Literal, ...]


@dataclass(frozen=True)
class Not:
    operand: Condition


@dataclass(frozen=True)
class BoolOp:
    operator: str  # AND, OR
    operands: tuple[Condition, ...]


Condition = Comparison | Not | BoolOp


@dataclass(frozen=True)
class OrderItem:
    path: Path
    descending: bool
    nulls_last: bool


@dataclass(frozen=True)
class Query:
    """A parsed query. ``fields`` is empty for ``SELECT COUNT()``."""

    fields: tuple[Path, ...]
    count_only: bool
    sobject: str
    sobject_line: int
    sobject_column: int
    where: Condition | None
    order: tuple[OrderItem, ...]
    limit: int | None
    offset: int | None


def _string(token: Token) -> str:
    body, out, i = token[1:-1], [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            out.append(_ESCAPES.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


@v_args(inline=True)
class _Build(Transformer[Token, Any]):
    def start(self, *items: Any) -> Query:
        select, name, *rest = items
        where = next((x[1] for x in rest if isinstance(x, tuple) and x[0] == "where"), None)
        order = next((x[1] for x in rest if isinstance(x, tuple) and x[0] == "order"), ())
        limit = next((x[1] for x in rest if isinstance(x, tuple) and x[0] == "limit"), None)
        offset = next((x[1] for x in rest if isinstance(x, tuple) and x[0] == "offset"), None)
        count_only = any(item == "COUNT()" for item in select)
        if count_only and len(select) > 1:
            raise SoqlSyntaxError("", 1, 1, "COUNT() cannot be combined with other fields")
        fields = tuple(item for item in select if isinstance(item, Path))
        return Query(fields, count_only, str(name), name.line or 1, name.column or 1, where, order, limit, offset)

    def select_list(self, *items: Any) -> list[Any]:
        return list(items)

    def count_all(self, _token: Token) -> str:
        return "COUNT()"

    def path(self, *names: Token) -> Path:
        return Path(tuple(str(n) for n in names), names[0].line or 1, names[0].column or 1)

    def where(self, cond: Condition) -> tuple[str, Condition]:
        return ("where", cond)

    def and_chain(self, *operands: Condition) -> BoolOp:
        return BoolOp("AND", operands)

    def or_chain(self, *operands: Condition) -> BoolOp:
        return BoolOp("OR", operands)

    def negation(self, _not: Token, operand: Condition) -> Not:
        return Not(operand)

    def compare(self, path: Path, operator: Token, value: Literal) -> Comparison:
        op = "!=" if str(operator) == "<>" else str(operator)
        return Comparison(path, op, (value,))

    def like(self, path: Path, _kw: Token, value: Literal) -> Comparison:
        return Comparison(path, "LIKE", (value,))

    def in_list(self, path: Path, _kw: Token, *values: Literal) -> Comparison:
        return Comparison(path, "IN", values)

    def not_in_list(self, path: Path, _not: Token, _in: Token, *values: Literal) -> Comparison:
        return Comparison(path, "NOT IN", values)

    def string(self, token: Token) -> str:
        return _string(token)

    def datetime_(self, token: Token) -> datetime:
        parsed = parse_datetime(str(token))
        if parsed is None:
            raise SoqlSyntaxError("", token.line or 1, token.column or 1, f"line {token.line}:{token.column} no viable "
                                  f"alternative at character '{token}'")
        return parsed

    def date_(self, token: Token) -> date:
        parsed = parse_date(str(token))
        if parsed is None:
            raise SoqlSyntaxError("", token.line or 1, token.column or 1, f"invalid date: {token}")
        return parsed

    def number(self, token: Token) -> Decimal:
        return Decimal(str(token))

    def true(self, _token: Token) -> bool:
        return True

    def false(self, _token: Token) -> bool:
        return False

    def null(self, _token: Token) -> None:
        return None

    def date_literal(self, token: Token) -> DateLiteral:
        name, _, days = str(token).upper().partition(":")
        return DateLiteral(name, int(days) if days else 0)

    def order(self, *items: OrderItem) -> tuple[str, tuple[OrderItem, ...]]:
        return ("order", items)

    def order_item(self, path: Path, *modifiers: Token) -> OrderItem:
        descending = any(m.type == "DIRECTION" and str(m).upper() == "DESC" for m in modifiers)
        nulls = next((str(m).upper().split()[-1] for m in modifiers if m.type == "NULLS_ORDER"), None)
        return OrderItem(path, descending, nulls == "LAST" if nulls else descending)

    def limit(self, token: Token) -> tuple[str, int]:
        return ("limit", int(token))

    def offset(self, token: Token) -> tuple[str, int]:
        return ("offset", int(token))


def parse(query: str) -> Query:
    """Parse one SOQL query; raises :class:`SoqlSyntaxError` naming the row and column."""
    try:
        tree = _PARSER.parse(query)
    except UnexpectedEOF:
        line = query.count("\n") + 1
        column = len(query.rsplit("\n", 1)[-1]) + 1
        raise SoqlSyntaxError(query, line, column, "unexpected end of query") from None
    except UnexpectedToken as exc:
        token = exc.token
        if token.type == "$END":
            line = query.count("\n") + 1
            raise SoqlSyntaxError(query, line, len(query.rsplit("\n", 1)[-1]) + 1,
                                  "unexpected end of query") from None
        raise SoqlSyntaxError(query, exc.line, exc.column, f"unexpected token: '{token}'") from None
    except UnexpectedCharacters as exc:
        pos = exc.pos_in_stream or 0
        char = query[pos] if pos < len(query) else ""
        raise SoqlSyntaxError(query, exc.line, exc.column, f"no viable alternative at character '{char}'") from None
    except UnexpectedInput as exc:  # pragma: no cover - the three above are the ones LALR raises
        raise SoqlSyntaxError(query, exc.line, exc.column, str(exc)) from None
    try:
        built: Query = _Build().transform(tree)
    except SoqlSyntaxError as exc:
        raise SoqlSyntaxError(query, exc.line, exc.column, exc.detail) from None
    except Exception as exc:  # lark wraps transformer errors in VisitError
        inner = getattr(exc, "orig_exc", None)
        if isinstance(inner, SoqlSyntaxError):
            raise SoqlSyntaxError(query, inner.line, inner.column, inner.detail) from None
        raise
    return built


def pointer_message(query: str, line: int, column: int, detail: str) -> str:
    """Salesforce's wording: the query line, a caret under the column, the row and column, the detail."""
    lines = query.split("\n")
    shown = lines[line - 1] if 0 < line <= len(lines) else query
    return f"\n{shown}\n{' ' * max(column - 1, 0)}^\nERROR at Row:{line}:Column:{column}\n{detail}"
