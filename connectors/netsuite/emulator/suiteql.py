"""SuiteQL: Oracle-flavoured SQL transpiled by sqlglot to SQLite, run over the store's tables.

A query is compiled once per text (LRU cache): parse as Oracle, check the tables, rewrite
NetSuite/Oracle functions (``BUILTIN.DF``, ``TO_CHAR``, ``TO_DATE``, ``TO_TIMESTAMP``,
``SYSDATE``, ``TRUNC``), name unnamed expressions ``expr1``…, and derive a cheap COUNT query.
Rows come back as NetSuite sends them: every value a string, nulls omitted, lowercase keys.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeGuard

import sqlglot
from sqlglot import exp
from sqlglot.dialects.sqlite import SQLite
from sqlglot.errors import ParseError, SqlglotError

from . import dates
from .errors import NsError, invalid_parameter
from .store import DATE_COLUMNS, SUITEQL_TABLES, Store


class _BacktickSQLite(SQLite):
    """SQLite output quoting identifiers with backticks.

    SQLite reads an unknown double-quoted identifier as a string literal (so ``"foo"`` would
    silently select the text 'foo'); backtick-quoted identifiers always fail with
    "no such column", which becomes NetSuite's "Unknown identifier".
    """

    class Tokenizer(SQLite.Tokenizer):
        IDENTIFIERS = ["`", '"']


_PREFIX = "Invalid search query. Detailed unprocessed description follows. Search error occurred: "

#: BUILTIN.DF(column) → scalar SQL giving the display text, keyed by column name.
#: ``{v}`` is the column expression, ``{q}`` the table qualifier prefix (e.g. ``"t".``).
_DF_SQL: dict[str, str] = {
    "entity": "(SELECT COALESCE(_c.companyname, _c.firstname || ' ' || _c.lastname, _c.entityid)"
    " FROM customer _c WHERE _c.id = {v})",
    "customer": "(SELECT COALESCE(_c.companyname, _c.firstname || ' ' || _c.lastname, _c.entityid)"
    " FROM customer _c WHERE _c.id = {v})",
    "subsidiary": "(SELECT _s.name FROM subsidiary _s WHERE _s.id = {v})",
    "parent": "(SELECT _s.name FROM subsidiary _s WHERE _s.id = {v})",
    "currency": "(SELECT _cu.name FROM currency _cu WHERE _cu.id = {v})",
    "item": "(SELECT _i.itemid FROM item _i WHERE _i.id = {v})",
    "entitystatus": "(SELECT _es.name FROM entitystatus _es WHERE _es.key = {v})",
    "createdfrom": "(SELECT CASE _t.type WHEN 'SalesOrd' THEN 'Sales Order #' ELSE 'Invoice #' END || _t.tranid"
    " FROM \"transaction\" _t WHERE _t.id = {v})",
    "transaction": "(SELECT CASE _t.type WHEN 'SalesOrd' THEN 'Sales Order #' ELSE 'Invoice #' END || _t.tranid"
    " FROM \"transaction\" _t WHERE _t.id = {v})",
    "status": "(SELECT _ts.fullname FROM transactionstatus _ts WHERE _ts.id = {v} AND _ts.trantype = {q}`type`)",
    "type": "(CASE {v} WHEN 'CustInvc' THEN 'Invoice' WHEN 'SalesOrd' THEN 'Sales Order' ELSE {v} END)",
    "isinactive": "(CASE {v} WHEN 'T' THEN 'Yes' WHEN 'F' THEN 'No' END)",
    "isperson": "(CASE {v} WHEN 'T' THEN 'Individual' WHEN 'F' THEN 'Company' END)",
}


@dataclass(frozen=True)
class CompiledQuery:
    """A SuiteQL text ready to run: page SQL, count SQL and per-column output hints."""

    sql: str
    count_sql: str
    has_own_limit: bool
    aliases: str
    #: Output column names (lowercase) known to be raw date columns.
    raw_date_names: frozenset[str]
    #: Output positions known to be raw date columns (None = decide by name, e.g. ``*``).
    raw_date_positions: frozenset[int] | None


def _suiteql_error(detail: str) -> NsError:
    return invalid_parameter(_PREFIX + detail, query_param="q")


def _is_builtin_df(node: exp.Expr) -> TypeGuard[exp.Dot]:
    return (
        isinstance(node, exp.Dot)
        and isinstance(node.this, exp.Identifier | exp.Column)
        and node.this.name.lower() == "builtin"
        and isinstance(node.expression, exp.Anonymous)
        and str(node.expression.this).lower() == "df"
    )


def _df_replacement(node: exp.Dot) -> exp.Expr:
    args = node.expression.expressions
    if len(args) != 1:
        raise _suiteql_error("BUILTIN.DF takes exactly one argument.")
    arg = args[0]
    if not isinstance(arg, exp.Column):
        return exp.Cast(this=arg, to=exp.DataType.build("TEXT"))
    value_sql = arg.sql(_BacktickSQLite, identify=True)
    qualifier = f"`{arg.table}`." if arg.table else ""
    template = _DF_SQL.get(arg.name.lower())
    if template is None:
        return exp.Cast(this=arg, to=exp.DataType.build("TEXT"))
    return sqlglot.parse_one(template.format(v=value_sql, q=qualifier), read=_BacktickSQLite)


def _anon(name: str, *args: exp.Expr) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def _rewrite(node: exp.Expr, date_pref: str) -> exp.Expr:
    if _is_builtin_df(node):
        return _df_replacement(node)
    if isinstance(node, exp.ToChar):
        fmt = node.args.get("format")
        if fmt is None:
            return _anon("ns_to_char", node.this)
        if not (isinstance(fmt, exp.Literal) and fmt.is_string):
            raise _suiteql_error("TO_CHAR format must be a string literal.")
        return _anon("ns_to_char", node.this, exp.Literal.string(dates.oracle_to_strftime(fmt.this)))
    if isinstance(node, exp.StrToDate | exp.StrToTime):
        fmt = node.args.get("format")
        args = [node.this] + ([fmt] if fmt is not None else [exp.Literal.string("%Y-%m-%d")])
        return _anon("ns_strptime", *args)
    if isinstance(node, exp.CurrentTimestamp | exp.CurrentDate | exp.CurrentDatetime):
        return _anon("ns_now")
    if isinstance(node, exp.Anonymous) and str(node.this).upper() == "TRUNC" and len(node.expressions) == 1:
        return _anon("ns_trunc", node.expressions[0])
    if isinstance(node, exp.DateTrunc | exp.TimestampTrunc) and node.args.get("unit") is None:
        return _anon("ns_trunc", node.this)
    if isinstance(node, exp.EQ | exp.NEQ | exp.GT | exp.GTE | exp.LT | exp.LTE):
        _coerce_date_literal(node, date_pref)
    return node


def _coerce_date_literal(node: exp.Expr, date_pref: str) -> None:
    """``trandate >= '1/15/2024'``: bare literals follow the account date preference."""
    left, right = node.this, node.expression
    for col, lit, key in ((left, right, "expression"), (right, left, "this")):
        if (
            isinstance(col, exp.Column)
            and col.name.lower() in DATE_COLUMNS
            and isinstance(lit, exp.Literal)
            and lit.is_string
        ):
            parsed = dates.parse_pref(lit.this, date_pref)
            if parsed is not None:
                node.set(key, exp.Literal.string(dates.date_store(parsed)))


def _tables(tree: exp.Expr) -> tuple[list[tuple[str, str]], set[str]]:
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    found: list[tuple[str, str]] = []
    for t in tree.find_all(exp.Table):
        name = t.name.lower()
        if name in ctes or not name:
            continue
        found.append((t.alias_or_name.lower(), name))
    return found, ctes


def _name_projections(select: exp.Select) -> tuple[frozenset[int] | None, frozenset[str]]:
    """Lowercase aliases, name unnamed expressions ``exprN``; find raw date projections."""
    positions: set[int] = set()
    names: set[str] = set()
    has_star = False
    counter = 0
    new: list[exp.Expr] = []
    for i, proj in enumerate(select.expressions):
        if isinstance(proj, exp.Star) or (isinstance(proj, exp.Column) and isinstance(proj.this, exp.Star)):
            has_star = True
            new.append(proj)
            continue
        inner = proj.this if isinstance(proj, exp.Alias) else proj
        if isinstance(inner, exp.Column) and inner.name.lower() in DATE_COLUMNS:
            positions.add(i)
            names.add((proj.alias if isinstance(proj, exp.Alias) else inner.name).lower())
        if isinstance(proj, exp.Alias):
            proj.set("alias", exp.to_identifier(proj.alias.lower()))
            new.append(proj)
        elif isinstance(proj, exp.Column):
            new.append(proj)
        else:
            counter += 1
            new.append(exp.alias_(proj, f"expr{counter}"))
    select.set("expressions", new)
    if has_star:
        return None, frozenset(names | DATE_COLUMNS)
    return frozenset(positions), frozenset(names)


@lru_cache(maxsize=2048)
def compile_query(text: str, date_pref: str) -> CompiledQuery:
    """Parse, check and transpile one SuiteQL text (cached per text and date preference)."""
    nul = text.find("\x00")
    if nul >= 0:
        # SQLite cannot take one (it was a 500, retried for minutes); NetSuite's own answer is UNCONFIRMED
        raise _suiteql_error(f"The query contains a NUL character (U+0000) at position {nul}.")
    try:
        trees = sqlglot.parse(text, read="oracle")
    except (ParseError, SqlglotError) as err:
        first = str(err).splitlines()[0] if str(err) else "syntax error"
        raise _suiteql_error(f"Parse of query failed: {first}") from None
    if len(trees) != 1 or trees[0] is None:
        raise _suiteql_error("Parse of query failed: expected exactly one statement.")
    tree = trees[0]
    if not isinstance(tree, exp.Query):
        raise _suiteql_error("Only SELECT statements are supported.")
    tables, _ = _tables(tree)
    for _, name in tables:
        if name not in SUITEQL_TABLES:
            raise _suiteql_error(f"Invalid search type: {name}.")
    aliases = ", ".join(f"{alias}={name}" for alias, name in tables)
    tree = tree.transform(lambda n: _rewrite(n, date_pref), copy=True)
    positions: frozenset[int] | None = frozenset()
    names: frozenset[str] = frozenset()
    if isinstance(tree, exp.Select):
        positions, names = _name_projections(tree)
    elif isinstance(tree, exp.SetOperation):
        left = tree.left
        while isinstance(left, exp.SetOperation):
            left = left.left
        if isinstance(left, exp.Select):
            positions, names = _name_projections(left)
    has_own_limit = bool(tree.args.get("limit") or tree.args.get("offset"))
    try:
        sql = tree.sql(_BacktickSQLite, identify=True)
        count_sql = _count_sql(tree, sql)
    except SqlglotError as err:
        raise _suiteql_error(str(err).splitlines()[0]) from None
    return CompiledQuery(sql, count_sql, has_own_limit, aliases, names, positions)


def _count_sql(tree: exp.Expr, sql: str) -> str:
    """COUNT query; for a plain SELECT drop projections and ORDER BY so indexes can answer it."""
    simple = (
        isinstance(tree, exp.Select)
        and not tree.args.get("group")
        and not tree.args.get("having")
        and not tree.args.get("distinct")
        and not tree.args.get("limit")
        and not tree.args.get("offset")
        and not tree.args.get("with_")
        and not any(p.find(exp.AggFunc) for p in tree.expressions)
        and not any(p.find(exp.Window) for p in tree.expressions)
    )
    if simple:
        counted = tree.copy()
        counted.set("expressions", [exp.Count(this=exp.Star())])
        counted.set("order", None)
        return counted.sql(_BacktickSQLite, identify=True)
    return f"SELECT COUNT(*) FROM ({sql})"


def _fmt_float(v: float) -> str:
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return format(v, ".15g")


def _plain(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, float):
        return _fmt_float(v)
    return str(v)


_SQLITE_NO_COLUMN = re.compile(r"no such column: (.+)$")
_SQLITE_NO_TABLE = re.compile(r"no such table: (?:main\.)?(.+)$")
_SQLITE_NO_FUNCTION = re.compile(r"no such function: (.+)$")


def _map_sqlite_error(err: sqlite3.Error, compiled: CompiledQuery) -> NsError:
    msg = str(err)
    if m := _SQLITE_NO_COLUMN.search(msg):
        ident = m.group(1).replace('"', "")
        return _suiteql_error(
            f"Unknown identifier '{ident}'. Available identifiers are: {{{compiled.aliases}}}."
        )
    if m := _SQLITE_NO_TABLE.search(msg):
        return _suiteql_error(f"Invalid search type: {m.group(1)}.")
    if m := _SQLITE_NO_FUNCTION.search(msg):
        return _suiteql_error(f"Unknown function {m.group(1).upper()}.")
    if "syntax error" in msg or "incomplete input" in msg:
        return _suiteql_error(f"Parse of query failed: {msg}.")
    if "Unparseable date" in msg:
        return _suiteql_error(msg.split("error: ", 1)[-1])
    return NsError(500, "UNEXPECTED_ERROR", f"An unexpected SuiteScript error has occurred. {msg}")


@dataclass
class Page:
    """One SuiteQL page: serialisable rows plus paging facts."""

    #: One JSON object a row: ``"links": []`` then each non-null column as text.
    items: list[dict[str, Any]]
    total: int
    has_more: bool


class SuiteQLEngine:
    """Runs compiled queries with paging, the row cap and cached counts."""

    def __init__(self, store: Store, row_cap: Callable[[], int], date_pref: Callable[[], str]) -> None:
        self.store = store
        self._row_cap = row_cap
        self._date_pref = date_pref
        self._counts: dict[str, tuple[int, int]] = {}

    def run(self, text: str, limit: int, offset: int) -> Page:
        pref = self._date_pref()
        compiled = compile_query(text, pref)
        row_cap = self._row_cap()
        store = self.store
        with store.lock:
            try:
                total = self._count(compiled)
                capped = min(total, row_cap)
                fetch = max(0, min(limit, capped - offset))
                if fetch == 0:
                    return Page([], total, False)
                page_sql = (
                    f"SELECT * FROM ({compiled.sql}) LIMIT ? OFFSET ?"
                    if compiled.has_own_limit
                    else f"{compiled.sql} LIMIT ? OFFSET ?"
                )
                cur = store.conn.execute(page_sql, (fetch, offset))
                rows = cur.fetchall()
                description = cur.description
            except sqlite3.Error as err:
                raise _map_sqlite_error(err, compiled) from None
        names = [d[0].lower() for d in description]
        converters = self._converters(compiled, names, pref)
        plain = _plain
        if not any(converters):
            items = [
                {"links": [], **{n: (v if v.__class__ is str else plain(v))
                                 for n, v in zip(names, row) if v is not None}}  # noqa: B905
                for row in rows
            ]
        else:
            fns = [conv or plain for conv in converters]
            items = [
                {"links": [], **{n: f(v) for n, f, v in zip(names, fns, row) if v is not None}}  # noqa: B905
                for row in rows
            ]
        return Page(items, total, offset + len(items) < capped)

    def _count(self, compiled: CompiledQuery) -> int:
        cached = self._counts.get(compiled.count_sql)
        if cached is not None and cached[0] == self.store.version:
            return cached[1]
        total = int(self.store.conn.execute(compiled.count_sql).fetchone()[0])
        if len(self._counts) > 4096:
            self._counts.clear()
        self._counts[compiled.count_sql] = (self.store.version, total)
        return total

    @staticmethod
    def _converters(
        compiled: CompiledQuery, names: list[str], pref: str
    ) -> list[Callable[[Any], str] | None]:
        """Per output column: a converter for raw date columns, ``None`` for plain values."""
        def raw_date(v: Any) -> str:
            if isinstance(v, str) and len(v) >= 10 and v[4] == "-" and v[7] == "-":
                return dates.format_pref(v, pref)
            return _plain(v)

        out: list[Callable[[Any], str] | None] = []
        for i, name in enumerate(names):
            if compiled.raw_date_positions is None:
                is_date = name in compiled.raw_date_names
            else:
                is_date = i in compiled.raw_date_positions
            out.append(raw_date if is_date else None)
        return out
