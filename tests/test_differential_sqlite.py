"""Differential test: the same rows loaded into MongoDB (through queryleaf) and into the
standard library's sqlite3, the same generated SELECT run on both, and the rows compared.

The generator keeps to SQL on which MySQL (queryleaf's dialect) and SQLite agree: integer
columns, floats that are exact halves, short ASCII strings compared only with strings, LIKE
case-sensitive on both sides (`PRAGMA case_sensitive_like`), no division, no string
concatenation and no comparison of text with numbers. A missing field in MongoDB is NULL in
SQLite. ORDER BY always ends with unique keys so that ordered results are comparable; other
results are compared as multisets. Numbers compare by value (SQLite's SUM of integers is an
integer, MongoDB's may be a double) with a small tolerance.

Runs on the embedded engine, or on a real server when QUERYLEAF_TEST_URI is set (the `conn`
fixture of conftest.py gives each test its own database and drops it afterwards).
"""

from __future__ import annotations

import math
import re
import sqlite3
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import queryleaf

MISSING = object()  # a field left out of the MongoDB document (NULL in SQLite)

TABLES: dict[str, dict[str, str]] = {
    "t": {"id": "INTEGER", "a": "INTEGER", "b": "INTEGER", "f": "REAL", "s": "TEXT", "r": "TEXT"},
    "u": {"id": "INTEGER", "t_id": "INTEGER", "c": "INTEGER", "s": "TEXT"},
}
NUMERIC = {"t": ["id", "a", "b", "f"], "u": ["id", "t_id", "c"]}
TEXT = {"t": ["s", "r"], "u": ["s"]}
ALPHABET = "abAB_"  # no backslash (MySQL's LIKE escape), no spaces (PAD SPACE collations)

# Hypothesis prints the (very large) repr of these grammars while it shrinks a failure.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

# Strategies are built once per arguments (@cache): building them on every draw is slow.
SETTINGS = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# -- data ----------------------------------------------------------------------------------


def _nullable(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(values, values, values, values, st.none(), st.just(MISSING))


small_int = st.integers(-3, 6)
half = st.integers(-6, 6).map(lambda k: k / 2)
# Mostly a few common strings, so that equality and IN find something.
TEXTS = ["", "a", "b", "A", "B", "ab", "aB", "ba", "a_", "_b", "bb", "aab"]
short_text = st.one_of(
    st.sampled_from(TEXTS), st.sampled_from(TEXTS), st.text(ALPHABET, max_size=3)
)

t_row = st.fixed_dictionaries(
    {
        "a": _nullable(small_int),
        "b": _nullable(small_int),
        "f": _nullable(half),
        "s": _nullable(short_text),
        "r": _nullable(short_text),
    }
)


def sized_lists(rows: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
    """Lists of rows, empty now and then but mostly of a useful size."""
    return st.sampled_from([0, 2, 4, 6, 8, 10, 12, 12]).flatmap(
        lambda n: st.lists(rows, min_size=n, max_size=n)
    )


@st.composite
def datasets(draw: st.DrawFn) -> dict[str, list[dict[str, Any]]]:
    t_rows = draw(sized_lists(t_row))
    u_row = st.fixed_dictionaries(
        {
            "t_id": _nullable(st.integers(0, len(t_rows) + 1)),
            "c": _nullable(small_int),
            "s": _nullable(short_text),
        }
    )
    u_rows = draw(sized_lists(u_row))
    return {
        "t": [{"id": i + 1, **row} for i, row in enumerate(t_rows)],
        "u": [{"id": i + 1, **row} for i, row in enumerate(u_rows)],
    }


# -- SQL literals and expressions -------------------------------------------------------------


def sql_number(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{value:.1f}"
    return repr(value)


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


number_literal = st.one_of(small_int, small_int, half).map(sql_number)
string_literal = short_text.map(sql_string)


@dataclass(frozen=True)
class Columns:
    """The columns a query may use: qualified names in a join, bare ones otherwise."""

    numeric: tuple[str, ...]
    text: tuple[str, ...]


def columns_of(*tables: str, qualify: bool = False, aliases: tuple[str, ...] = ()) -> Columns:
    """The columns of `tables`, qualified by table name (or by `aliases`) when asked."""
    names = aliases or tables

    def name(i: int, column: str) -> str:
        return f"{names[i]}.{column}" if qualify else column

    numeric = tuple(name(i, c) for i, t in enumerate(tables) for c in NUMERIC[t])
    text = tuple(name(i, c) for i, t in enumerate(tables) for c in TEXT[t])
    return Columns(numeric, text)


@cache
def numeric_column(cols: Columns) -> st.SearchStrategy[str]:
    return st.sampled_from(cols.numeric)


@cache
def text_column(cols: Columns) -> st.SearchStrategy[str]:
    return st.sampled_from(cols.text)


@cache
def text_expr(cols: Columns, depth: int = 1) -> st.SearchStrategy[str]:
    """A string value: a column, or UPPER, LOWER, SUBSTR (from position 1 on, where MySQL
    and SQLite agree) or COALESCE of such."""
    column = text_column(cols)
    if depth == 0:
        return column
    sub = text_expr(cols, depth - 1)
    return st.one_of(
        column,
        column,
        column,
        sub.map(lambda x: f"UPPER({x})"),
        sub.map(lambda x: f"LOWER({x})"),
        st.tuples(sub, st.integers(1, 3), st.integers(0, 2)).map(
            lambda p: f"SUBSTR({p[0]}, {p[1]}, {p[2]})"
        ),
        st.tuples(sub, st.one_of(sub, string_literal)).map(lambda p: f"COALESCE({p[0]}, {p[1]})"),
    )


@cache
def simple_condition(cols: Columns) -> st.SearchStrategy[str]:
    """A comparison of a column with a literal, or a NULL test (for CASE WHEN)."""
    return st.one_of(
        st.tuples(numeric_column(cols), st.sampled_from(COMPARE), number_literal).map(" ".join),
        st.tuples(text_column(cols), st.sampled_from(COMPARE), string_literal).map(" ".join),
        st.tuples(
            st.sampled_from(cols.numeric + cols.text), st.sampled_from(["IS NULL", "IS NOT NULL"])
        ).map(" ".join),
    )


@cache
def numeric_expr(cols: Columns, depth: int = 2) -> st.SearchStrategy[str]:
    """A numeric value: a column, a literal (NULL now and then), +, - and * of such, and
    ABS, COALESCE, NULLIF, LENGTH and CASE."""
    leaf = st.one_of(
        numeric_column(cols),
        numeric_column(cols),
        numeric_column(cols),
        number_literal,
        number_literal,
        st.just("NULL"),
    )
    if depth == 0:
        return leaf
    sub = numeric_expr(cols, depth - 1)
    binary = st.tuples(sub, st.sampled_from(["+", "-", "*"]), sub).map(
        lambda p: f"({p[0]} {p[1]} {p[2]})"
    )
    pair = st.tuples(sub, sub)
    function = st.one_of(
        sub.map(lambda x: f"ABS({x})"),
        pair.map(lambda p: f"COALESCE({p[0]}, {p[1]})"),
        pair.map(lambda p: f"NULLIF({p[0]}, {p[1]})"),
        text_expr(cols, 0).map(lambda x: f"LENGTH({x})"),
        st.tuples(simple_condition(cols), sub, sub).map(
            lambda p: f"CASE WHEN {p[0]} THEN {p[1]} ELSE {p[2]} END"
        ),
    )
    return st.one_of(leaf, leaf, leaf, binary, binary, function)


@cache
def column_expr(cols: Columns) -> st.SearchStrategy[str]:
    """+, - or * of a column and a numeric value: never a bare literal."""
    return st.tuples(
        numeric_column(cols), st.sampled_from(["+", "-", "*"]), numeric_expr(cols, 0)
    ).map(lambda p: f"({p[0]} {p[1]} {p[2]})")


@cache
def numeric_operand(cols: Columns) -> st.SearchStrategy[str]:
    """A numeric value that depends on a column (mostly)."""
    return st.one_of(numeric_column(cols), column_expr(cols), numeric_expr(cols, 1))


NUMBER = re.compile(r"^-?[0-9.]+$")
COMPARE = ["=", "!=", "<>", "<", "<=", ">", ">="]


@cache
def comparison(cols: Columns) -> st.SearchStrategy[str]:
    op = st.sampled_from(COMPARE)
    numeric = st.tuples(numeric_operand(cols), op, numeric_expr(cols, 1)).map(" ".join)
    text = st.tuples(text_expr(cols), op, st.one_of(text_expr(cols), string_literal)).map(" ".join)
    flipped = st.tuples(string_literal, op, text_expr(cols)).map(" ".join)
    with_null = st.tuples(st.sampled_from(cols.numeric + cols.text), op, st.just("NULL")).map(
        " ".join
    )
    return st.one_of(numeric, numeric, numeric, text, text, flipped, with_null)


@cache
def in_list(cols: Columns) -> st.SearchStrategy[str]:
    def render(parts: tuple[str, bool, list[str]]) -> str:
        subject, negate, items = parts
        return f"{subject} {'NOT IN' if negate else 'IN'} ({', '.join(items)})"

    null = st.just("NULL")
    numeric = st.tuples(
        numeric_operand(cols),
        st.booleans(),
        st.lists(
            st.one_of(number_literal, number_literal, number_literal, null, numeric_column(cols)),
            min_size=1,
            max_size=4,
        ),
    )
    text = st.tuples(
        text_expr(cols),
        st.booleans(),
        st.lists(
            st.one_of(string_literal, string_literal, string_literal, null), min_size=1, max_size=4
        ),
    )
    return st.one_of(numeric, text).map(render)


@cache
def between(cols: Columns) -> st.SearchStrategy[str]:
    def render(parts: tuple[str, bool, str, str]) -> str:
        subject, negate, low, high = parts
        return f"{subject} {'NOT BETWEEN' if negate else 'BETWEEN'} {low} AND {high}"

    bound = st.one_of(number_literal, number_literal, number_literal, numeric_expr(cols, 0))
    numeric = st.tuples(numeric_operand(cols), st.booleans(), bound, bound)
    text_bound = st.one_of(string_literal, string_literal, text_column(cols), st.just("NULL"))
    text = st.tuples(text_expr(cols), st.booleans(), text_bound, text_bound)
    return st.one_of(numeric, numeric, text).map(render)


@cache
def null_test(cols: Columns) -> st.SearchStrategy[str]:
    subject = st.one_of(
        st.sampled_from(cols.numeric + cols.text), numeric_expr(cols, 1), text_expr(cols)
    )
    return st.tuples(subject, st.sampled_from(["IS NULL", "IS NOT NULL"])).map(" ".join)


@cache
def like(cols: Columns) -> st.SearchStrategy[str]:
    pattern = st.text(ALPHABET + "%%", max_size=4).map(sql_string)
    return st.tuples(text_expr(cols), st.sampled_from(["LIKE", "NOT LIKE"]), pattern).map(" ".join)


@cache
def predicate(cols: Columns, depth: int = 2) -> st.SearchStrategy[str]:
    atom = st.one_of(
        comparison(cols),
        comparison(cols),
        in_list(cols),
        between(cols),
        null_test(cols),
        like(cols),
    )
    if depth == 0:
        return atom
    sub = predicate(cols, depth - 1)
    conj = st.tuples(sub, st.sampled_from(["AND", "OR"]), sub).map(
        lambda p: f"({p[0]} {p[1]} {p[2]})"
    )
    negation = sub.map(lambda p: f"NOT ({p})")
    return st.one_of(atom, atom, conj, conj, negation)


@cache
def where_clause(cols: Columns) -> st.SearchStrategy[str]:
    return st.one_of(st.just(""), predicate(cols).map(lambda p: f" WHERE {p}"))


def select_list(items: list[str]) -> str:
    return ", ".join(f"{item} AS c{i}" for i, item in enumerate(items))


# -- queries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    sql: str
    ordered: bool  # the ORDER BY is total: compare rows in order


T = columns_of("t")


@cache
def select_item(cols: Columns) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(cols.numeric + cols.text),
        st.sampled_from(cols.numeric + cols.text),
        numeric_expr(cols, 1),
        text_expr(cols),
    )


@st.composite
def filter_queries(draw: st.DrawFn) -> Query:
    """SELECT columns and expressions FROM t WHERE ..., unordered."""
    items = draw(st.lists(select_item(T), min_size=1, max_size=4))
    distinct = draw(st.sampled_from(["", "", "", "DISTINCT "]))
    where = draw(predicate(T).map(lambda p: f" WHERE {p}"))
    return Query(f"SELECT {distinct}{select_list(items)} FROM t{where}", ordered=False)


@cache
def limit_clause() -> st.SearchStrategy[str]:
    return st.one_of(
        st.just(""),
        st.integers(0, 6).map(lambda n: f" LIMIT {n}"),
        st.tuples(st.integers(0, 6), st.integers(0, 4)).map(
            lambda p: f" LIMIT {p[0]} OFFSET {p[1]}"
        ),
    )


@cache
def order_key(cols: Columns) -> st.SearchStrategy[str]:
    """A column or an expression over one; never a bare literal (ORDER BY 2 means the second
    column)."""
    key = st.one_of(
        st.sampled_from(cols.numeric + cols.text),
        st.sampled_from(cols.numeric + cols.text),
        column_expr(cols),
        text_expr(cols, 1),
    )
    return st.tuples(key, st.sampled_from(["", " ASC", " DESC"])).map("".join)


@st.composite
def ordered_queries(draw: st.DrawFn) -> Query:
    """ORDER BY columns or expressions, then id (so the order is total), LIMIT, OFFSET."""
    items = draw(st.lists(select_item(T), min_size=1, max_size=3))
    keys = draw(st.lists(order_key(T), min_size=1, max_size=3))
    keys.append(draw(st.sampled_from(["id", "id DESC"])))
    where = draw(where_clause(T))
    limit = draw(limit_clause())
    sql = f"SELECT {select_list(items)} FROM t{where} ORDER BY {', '.join(keys)}{limit}"
    return Query(sql, ordered=True)


@cache
def aggregate(cols: Columns) -> st.SearchStrategy[str]:
    numeric = numeric_operand(cols)
    anything = st.one_of(numeric, text_expr(cols))
    return st.one_of(
        st.just("COUNT(*)"),
        anything.map(lambda x: f"COUNT({x})"),
        anything.map(lambda x: f"COUNT(DISTINCT {x})"),
        numeric.map(lambda x: f"SUM({x})"),
        numeric.map(lambda x: f"SUM({x})"),
        numeric.map(lambda x: f"SUM(DISTINCT {x})"),
        numeric.map(lambda x: f"AVG({x})"),
        numeric.map(lambda x: f"AVG(DISTINCT {x})"),
        anything.map(lambda x: f"MIN({x})"),
        anything.map(lambda x: f"MAX({x})"),
    )


@dataclass(frozen=True)
class Key:
    sql: str
    text: bool


@cache
def group_key(cols: Columns) -> st.SearchStrategy[Key]:
    plain = st.sampled_from([c for c in cols.numeric if not c.endswith("id")]).map(
        lambda c: Key(c, False)
    )
    text = text_expr(cols).map(lambda c: Key(c, True))
    computed = st.tuples(
        numeric_column(cols), st.sampled_from(["+", "-", "*"]), numeric_column(cols)
    ).map(lambda p: Key(f"({p[0]} {p[1]} {p[2]})", False))
    # Not a bare number: GROUP BY 2 means the second column.
    mixed = numeric_expr(cols, 1).filter(lambda c: not NUMBER.match(c)).map(lambda c: Key(c, False))
    return st.one_of(plain, plain, text, text, computed, mixed)


@cache
def having_predicate(cols: Columns, keys: tuple[Key, ...]) -> st.SearchStrategy[str]:
    agg = aggregate(cols)
    op = st.sampled_from(COMPARE)
    numeric_agg = st.one_of(
        st.just("COUNT(*)"),
        numeric_operand(cols).map(lambda x: f"SUM({x})"),
        numeric_operand(cols).map(lambda x: f"AVG({x})"),
        numeric_operand(cols).map(lambda x: f"MAX({x})"),
        st.sampled_from(cols.numeric + cols.text).map(lambda x: f"COUNT({x})"),
    )
    agg_cmp = st.tuples(numeric_agg, op, st.one_of(numeric_agg, number_literal)).map(" ".join)
    agg_arith = st.tuples(
        numeric_agg, st.sampled_from(["+", "-", "*"]), numeric_agg, op, number_literal
    ).map(lambda p: f"({p[0]} {p[1]} {p[2]}) {p[3]} {p[4]}")
    agg_text = st.tuples(text_expr(cols).map(lambda x: f"MIN({x})"), op, string_literal).map(
        " ".join
    )
    options = [agg_cmp, agg_cmp, agg_arith, agg_text, agg.map(lambda x: f"{x} IS NULL")]
    numeric_keys = [k.sql for k in keys if not k.text]
    if numeric_keys:
        options.append(st.tuples(st.sampled_from(numeric_keys), op, number_literal).map(" ".join))
    text_keys = [k.sql for k in keys if k.text]
    if text_keys:
        options.append(st.tuples(st.sampled_from(text_keys), op, string_literal).map(" ".join))
    atom = st.one_of(*options)
    conj = st.tuples(atom, st.sampled_from(["AND", "OR"]), atom).map(
        lambda p: f"({p[0]} {p[1]} {p[2]})"
    )
    return st.one_of(atom, atom, conj, atom.map(lambda p: f"NOT ({p})"))


@st.composite
def grouped_queries(draw: st.DrawFn, cols: Columns = T, source: str = "t") -> Query:
    """GROUP BY keys (or none: one row over the whole input) with aggregates and HAVING;
    ORDER BY every key when ordered."""
    keys = draw(
        st.one_of(
            st.just([]),
            st.lists(group_key(cols), min_size=1, max_size=2, unique_by=lambda k: k.sql),
        )
    )
    key_sql = [k.sql for k in keys]
    aggregates = draw(st.lists(aggregate(cols), min_size=1, max_size=4))
    where = draw(where_clause(cols))
    sql = f"SELECT {select_list(key_sql + aggregates)} FROM {source}{where}"
    if keys:
        sql += f" GROUP BY {', '.join(key_sql)}"
    if draw(st.booleans()):
        sql += f" HAVING {draw(having_predicate(cols, tuple(keys)))}"
    ordered = False
    if keys and draw(st.booleans()):
        order = [f"{k}{draw(st.sampled_from(['', ' DESC']))}" for k in key_sql]
        if draw(st.booleans()):
            order.insert(0, f"{draw(aggregate(cols))}{draw(st.sampled_from(['', ' DESC']))}")
        sql += f" ORDER BY {', '.join(order)}{draw(limit_clause())}"
        ordered = True
    return Query(sql, ordered=ordered)


TU = columns_of("t", "u", qualify=True)
XY = columns_of("t", "u", qualify=True, aliases=("x", "y"))
JOIN_ON = [
    "{t}.id = {u}.t_id",
    "{u}.t_id = {t}.id",
    "{t}.a = {u}.c",
    "{u}.c = {t}.b",
    "{t}.f = {u}.c",
    "{t}.s = {u}.s",
]
JOINS = {
    TU: ("t {kind} u", "t", "u"),
    XY: ("t AS x {kind} u AS y", "x", "y"),
}


@st.composite
def join_queries(draw: st.DrawFn) -> Query:
    """t INNER or LEFT JOIN u on an equality (and sometimes one more condition), with WHERE
    on either side."""
    cols = draw(st.sampled_from([TU, TU, XY]))
    tables, t, u = JOINS[cols]
    kind = draw(st.sampled_from(["JOIN", "INNER JOIN", "LEFT JOIN", "LEFT JOIN"]))
    on = draw(st.sampled_from(JOIN_ON)).format(t=t, u=u)
    if draw(st.integers(0, 3)) == 0:
        on += f" AND {draw(predicate(cols, 0))}"
    items = draw(st.lists(select_item(cols), min_size=1, max_size=4))
    where = draw(where_clause(cols))
    sql = f"SELECT {select_list(items)} FROM {tables.format(kind=kind)} ON {on}{where}"
    ordered = draw(st.booleans())
    if ordered:
        direction = draw(st.sampled_from(["", " DESC"]))
        sql += f" ORDER BY {t}.id{direction}, {u}.id{draw(limit_clause())}"
    return Query(sql, ordered=ordered)


JOINED_SOURCES = [
    "t JOIN u ON t.id = u.t_id",
    "t LEFT JOIN u ON t.id = u.t_id",
    "t LEFT JOIN u ON u.c = t.a",
]


# -- running and comparing -----------------------------------------------------------------


def load(conn: queryleaf.Connection, data: dict[str, list[dict[str, Any]]]) -> sqlite3.Connection:
    lite = sqlite3.connect(":memory:")
    lite.execute("PRAGMA case_sensitive_like = ON")
    for table, columns in TABLES.items():
        conn.db[table].drop()
        documents = [{k: v for k, v in row.items() if v is not MISSING} for row in data[table]]
        if documents:
            conn.db[table].insert_many(documents)
        names = list(columns)
        lite.execute(f"CREATE TABLE {table} ({', '.join(f'{c} {columns[c]}' for c in names)})")
        lite.executemany(
            f"INSERT INTO {table} VALUES ({', '.join('?' for _ in names)})",
            [[None if row[c] is MISSING else row[c] for c in names] for row in data[table]],
        )
    return lite


def _sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    key = []
    for value in row:
        if value is None:
            key.append((0, 0.0, ""))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            key.append((1, round(float(value), 6), ""))
        else:
            key.append((2, 0.0, str(value)))
    return tuple(key)


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    numbers = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b and type(a) is type(b)
    if isinstance(a, numbers) and isinstance(b, numbers):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return type(a) is type(b) and a == b


def rows_match(expected: list[tuple[Any, ...]], got: list[tuple[Any, ...]], ordered: bool) -> bool:
    if len(expected) != len(got):
        return False
    if not ordered:
        expected = sorted(expected, key=_sort_key)
        got = sorted(got, key=_sort_key)
    return all(
        len(e) == len(g) and all(_same(x, y) for x, y in zip(e, g, strict=True))
        for e, g in zip(expected, got, strict=True)
    )


def _describe(data: dict[str, list[dict[str, Any]]]) -> str:
    lines = []
    for table, rows in data.items():
        for row in rows:
            shown = {k: v for k, v in row.items() if v is not MISSING}
            lines.append(f"  {table}: {shown}")
    return "\n".join(lines) or "  (no rows)"


def check(conn: queryleaf.Connection, data: dict[str, list[dict[str, Any]]], query: Query) -> None:
    lite = load(conn, data)
    try:
        expected = [tuple(row) for row in lite.execute(query.sql).fetchall()]
    finally:
        lite.close()
    try:
        result = conn.run_sql(query.sql)
    except queryleaf.QueryLeafError as error:
        pytest.fail(
            f"queryleaf failed where SQLite did not\nSQL: {query.sql}\ndata:\n{_describe(data)}\n"
            f"sqlite:    {expected}\nqueryleaf: {type(error).__name__}: {error}",
            pytrace=False,
        )
    got = [tuple(row[c] for c in result.columns) for row in result.rows]
    if not rows_match(expected, got, query.ordered):
        command = result.plan.command if result.plan is not None else None
        pytest.fail(
            f"queryleaf and SQLite disagree\nSQL: {query.sql}\ndata:\n{_describe(data)}\n"
            f"sqlite:    {expected}\nqueryleaf: {got}\ncommand: {command}",
            pytrace=False,
        )


# -- properties ----------------------------------------------------------------------------


@SETTINGS
@given(data=datasets(), query=filter_queries())
def test_where(conn: queryleaf.Connection, data: dict[str, Any], query: Query) -> None:
    check(conn, data, query)


@SETTINGS
@given(data=datasets(), query=ordered_queries())
def test_order_by_limit(conn: queryleaf.Connection, data: dict[str, Any], query: Query) -> None:
    check(conn, data, query)


@SETTINGS
@given(data=datasets(), query=grouped_queries())
def test_group_by(conn: queryleaf.Connection, data: dict[str, Any], query: Query) -> None:
    check(conn, data, query)


@SETTINGS
@given(data=datasets(), query=join_queries())
def test_join(conn: queryleaf.Connection, data: dict[str, Any], query: Query) -> None:
    check(conn, data, query)


@SETTINGS
@given(
    data=datasets(),
    query=st.sampled_from(JOINED_SOURCES).flatmap(lambda s: grouped_queries(cols=TU, source=s)),
)
def test_group_by_over_join(conn: queryleaf.Connection, data: dict[str, Any], query: Query) -> None:
    check(conn, data, query)
