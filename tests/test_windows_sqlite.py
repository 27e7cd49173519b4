"""Differential test of window functions: the same rows in MongoDB (through queryleaf) and in
the standard library's sqlite3, whose window functions follow the SQL standard as MySQL's do;
the same generated SELECT run on both, rows compared in order (every query ends with ORDER BY
the unique `id`).

Only deterministic windows are generated: functions that depend on the order of rows within a
group of peers (ROW_NUMBER, NTILE, LAG/LEAD, FIRST/LAST/NTH_VALUE, ROWS frames) get a window
ORDER BY that ends with `id`; RANK & co. and aggregates over RANGE frames (the default frame
under ORDER BY included) are generated over keys with many ties, and FIRST_VALUE/LAST_VALUE
over such keys only read the first key itself. A missing field in MongoDB is NULL in SQLite.
Numbers compare by value with a small tolerance (sums of doubles may differ in the last bit).
"""

from __future__ import annotations

import math
import sqlite3
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import queryleaf

MISSING = object()  # a field left out of the MongoDB document (NULL in SQLite)
COLUMNS = {"id": "INTEGER", "g": "INTEGER", "h": "TEXT", "a": "INTEGER", "f": "REAL", "s": "TEXT"}

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _nullable(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(values, values, values, st.none(), st.just(MISSING))


ROW = st.fixed_dictionaries(
    {
        "g": _nullable(st.integers(0, 2)),
        "h": _nullable(st.sampled_from(["x", "y"])),
        "a": _nullable(st.integers(-2, 3)),
        "f": _nullable(st.integers(-4, 4).map(lambda k: k / 2)),
        "s": _nullable(st.sampled_from(["", "a", "b", "B", "ab"])),
    }
)
ROWS = (
    st.sampled_from([0, 1, 3, 6, 9, 12, 12])
    .flatmap(lambda n: st.lists(ROW, min_size=n, max_size=n))
    .map(lambda rows: [{"id": i + 1, **row} for i, row in enumerate(rows)])
)

# -- windows ---------------------------------------------------------------------------------

PARTITIONS = ["", "", "PARTITION BY g", "PARTITION BY h", "PARTITION BY g, h", "PARTITION BY a > 0"]
# ORDER BY keys with many ties (and NULLs): (SQL, key expression without direction)
KEYS = [
    ("a", "a"),
    ("a DESC", "a"),
    ("f", "f"),
    ("f DESC", "f"),
    ("s", "s"),
    ("s DESC", "s"),
    ("g", "g"),
    ("(a + g)", "(a + g)"),
]
NUMERIC_KEYS = ["a", "a DESC", "f", "f DESC"]
AGGREGATES = ["SUM(a)", "SUM(f)", "COUNT(*)", "COUNT(s)", "AVG(a)", "MIN(s)", "MAX(f)", "MIN(a)"]
PEER_FRAMES = [
    "",
    "",
    " RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW",
    " RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING",
    " RANGE BETWEEN CURRENT ROW AND CURRENT ROW",
    " RANGE BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING",
    " RANGE UNBOUNDED PRECEDING",
]
OFFSET_FRAMES = [
    " RANGE BETWEEN 1 PRECEDING AND 1 FOLLOWING",
    " RANGE BETWEEN 2 PRECEDING AND CURRENT ROW",
    " RANGE BETWEEN CURRENT ROW AND 1.5 FOLLOWING",
    " RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING",
    " RANGE BETWEEN 2 PRECEDING AND 1 PRECEDING",
    " RANGE BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING",
    " RANGE 1 PRECEDING",
]
ROWS_FRAMES = [
    " ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING",
    " ROWS 2 PRECEDING",
    " ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING",
    " ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING",
    " ROWS BETWEEN 2 FOLLOWING AND 3 FOLLOWING",
    " ROWS UNBOUNDED PRECEDING",
]
VALUES = ["a", "f", "s", "g"]


def over(partition: str, order: str, frame: str = "") -> str:
    parts = [p for p in (partition, f"ORDER BY {order}" if order else "") if p]
    return f"OVER ({' '.join(parts)}{frame})"


@st.composite
def tied_order(draw: st.DrawFn) -> tuple[str, str]:
    """ORDER BY one or two keys with ties; returns (SQL, the first key's expression)."""
    keys = draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=2, unique=True))
    return ", ".join(k[0] for k in keys), keys[0][1]


@st.composite
def total_order(draw: st.DrawFn) -> str:
    keys = draw(st.lists(st.sampled_from(KEYS), max_size=2, unique=True))
    return ", ".join([k[0] for k in keys] + [draw(st.sampled_from(["id", "id DESC"]))])


@st.composite
def ranking(draw: st.DrawFn) -> str:
    function = draw(st.sampled_from(["RANK()", "DENSE_RANK()", "PERCENT_RANK()", "CUME_DIST()"]))
    partition = draw(st.sampled_from(PARTITIONS))
    order = draw(st.one_of(tied_order().map(lambda o: o[0]), st.just("")))
    return f"{function} {over(partition, order)}"


@st.composite
def peer_aggregate(draw: st.DrawFn) -> str:
    """Aggregates over frames bounded by UNBOUNDED and CURRENT ROW: peers matter."""
    partition = draw(st.sampled_from(PARTITIONS))
    order, first_key = draw(tied_order())
    frame = draw(st.sampled_from(PEER_FRAMES))
    function = draw(
        st.sampled_from([*AGGREGATES, f"FIRST_VALUE({first_key})", f"LAST_VALUE({first_key})"])
    )
    if draw(st.integers(0, 5)) == 0 and "_VALUE" not in function:
        order, frame = "", ""  # the whole partition
    return f"{function} {over(partition, order, frame)}"


@st.composite
def offset_aggregate(draw: st.DrawFn) -> str:
    partition = draw(st.sampled_from(PARTITIONS))
    order = draw(st.sampled_from(NUMERIC_KEYS))
    frame = draw(st.sampled_from(OFFSET_FRAMES))
    return f"{draw(st.sampled_from(AGGREGATES))} {over(partition, order, frame)}"


@st.composite
def ordered_function(draw: st.DrawFn) -> str:
    """Functions that depend on the order within peers, over a total order."""
    partition = draw(st.sampled_from(PARTITIONS))
    order = draw(total_order())
    value = draw(st.sampled_from(VALUES))
    offset = draw(st.integers(0, 2))
    default = draw(st.sampled_from(["", ", 0", ", NULL", ", a", ", -1"]))
    function = draw(
        st.sampled_from(
            [
                "ROW_NUMBER()",
                f"NTILE({draw(st.integers(1, 5))})",
                f"LAG({value})",
                f"LAG({value}, {offset}{default if value != 's' else ''})",
                f"LEAD({value}, {offset}{default if value != 's' else ''})",
                f"FIRST_VALUE({value})",
                f"LAST_VALUE({value})",
                f"NTH_VALUE({value}, {offset + 1})",
            ]
        )
    )
    return f"{function} {over(partition, order)}"


@st.composite
def rows_aggregate(draw: st.DrawFn) -> str:
    partition = draw(st.sampled_from(PARTITIONS))
    order = draw(total_order())
    frame = draw(st.sampled_from(ROWS_FRAMES))
    function = draw(
        st.sampled_from([*AGGREGATES, "FIRST_VALUE(a)", "LAST_VALUE(s)", "NTH_VALUE(f, 2)"])
    )
    return f"{function} {over(partition, order, frame)}"


WINDOW = st.one_of(
    ranking(),
    peer_aggregate(),
    peer_aggregate(),
    offset_aggregate(),
    ordered_function(),
    rows_aggregate(),
)
WHERE = st.sampled_from(["", "", "", " WHERE a IS NOT NULL", " WHERE g <> 1 OR s > 'a'"])


@st.composite
def window_queries(draw: st.DrawFn) -> str:
    windows = draw(st.lists(WINDOW, min_size=1, max_size=3))
    items = ", ".join(f"{w} AS c{i}" for i, w in enumerate(windows))
    limit = draw(st.sampled_from(["", "", "", " LIMIT 4"]))
    return f"SELECT id, {items} FROM w{draw(WHERE)} ORDER BY id{limit}"


GROUPED_WINDOWS = [
    "RANK() OVER (ORDER BY SUM(a) DESC)",
    "DENSE_RANK() OVER (ORDER BY COUNT(*))",
    "SUM(SUM(a)) OVER (ORDER BY g)",
    "SUM(COUNT(*)) OVER (PARTITION BY MIN(h))",
    "ROW_NUMBER() OVER (ORDER BY g DESC)",
    "LAG(MAX(f), 1, -9) OVER (ORDER BY g)",
    "AVG(MAX(a)) OVER (ORDER BY MIN(s) RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)",
    "COUNT(*) OVER ()",
    "CUME_DIST() OVER (ORDER BY COUNT(s), SUM(f) DESC)",
]


@st.composite
def grouped_window_queries(draw: st.DrawFn) -> str:
    windows = draw(st.lists(st.sampled_from(GROUPED_WINDOWS), min_size=1, max_size=3))
    items = ", ".join(f"{w} AS c{i}" for i, w in enumerate(windows))
    having = draw(st.sampled_from(["", "", " HAVING COUNT(*) > 1"]))
    return f"SELECT g, SUM(a) AS s, {items} FROM w GROUP BY g{having} ORDER BY g"


# -- running and comparing ---------------------------------------------------------------------


def load(conn: queryleaf.Connection, rows: list[dict[str, Any]]) -> sqlite3.Connection:
    conn.db["w"].drop()
    documents = [{k: v for k, v in row.items() if v is not MISSING} for row in rows]
    if documents:
        conn.db["w"].insert_many(documents)
    lite = sqlite3.connect(":memory:")
    names = list(COLUMNS)
    lite.execute(f"CREATE TABLE w ({', '.join(f'{c} {COLUMNS[c]}' for c in names)})")
    lite.executemany(
        f"INSERT INTO w VALUES ({', '.join('?' for _ in names)})",
        [[None if row[c] is MISSING else row[c] for c in names] for row in rows],
    )
    return lite


def same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return type(a) is type(b) and a == b


def check(conn: queryleaf.Connection, rows: list[dict[str, Any]], sql: str) -> None:
    lite = load(conn, rows)
    try:
        expected = [tuple(row) for row in lite.execute(sql).fetchall()]
    finally:
        lite.close()
    shown = "\n".join(f"  { ({k: v for k, v in r.items() if v is not MISSING}) }" for r in rows)
    try:
        result = conn.run_sql(sql)
    except queryleaf.QueryLeafError as error:
        pytest.fail(f"queryleaf failed: {error}\nSQL: {sql}\ndata:\n{shown}", pytrace=False)
    got = [tuple(row[c] for c in result.columns) for row in result.rows]
    agree = len(got) == len(expected) and all(
        len(e) == len(g) and all(same(x, y) for x, y in zip(e, g, strict=True))
        for e, g in zip(expected, got, strict=True)
    )
    if not agree:
        command = result.plan.command if result.plan is not None else None
        pytest.fail(
            f"queryleaf and SQLite disagree\nSQL: {sql}\ndata:\n{shown}\nsqlite:    {expected}"
            f"\nqueryleaf: {got}\ncommand: {command}",
            pytrace=False,
        )


@SETTINGS
@given(rows=ROWS, sql=window_queries())
def test_windows(conn: queryleaf.Connection, rows: list[dict[str, Any]], sql: str) -> None:
    check(conn, rows, sql)


@settings(SETTINGS, max_examples=40)
@given(rows=ROWS, sql=grouped_window_queries())
def test_windows_over_groups(
    conn: queryleaf.Connection, rows: list[dict[str, Any]], sql: str
) -> None:
    check(conn, rows, sql)


def test_order_by_a_window(conn: queryleaf.Connection) -> None:
    rows = [
        {"id": i, "g": i % 2, "h": None, "a": (i * 7) % 4, "f": MISSING, "s": "ab"[i % 2]}
        for i in range(1, 9)
    ]
    sql = (
        "SELECT id, ROW_NUMBER() OVER (PARTITION BY g ORDER BY a DESC, id) AS rn FROM w "
        "ORDER BY rn, SUM(a) OVER (PARTITION BY s) DESC, id"
    )
    check(conn, rows, sql)


def test_named_windows(conn: queryleaf.Connection) -> None:
    rows = [
        {"id": i, "g": i % 3, "h": "xy"[i % 2], "a": (i * 5) % 4, "f": i / 2, "s": MISSING}
        for i in range(1, 11)
    ]
    sql = (
        "SELECT id, SUM(a) OVER w AS c0, RANK() OVER (w ORDER BY a DESC) AS c1, "
        "AVG(f) OVER wf AS c2, LAST_VALUE(id) OVER wf AS c3 FROM w "
        "WINDOW w AS (PARTITION BY g), wf AS (w ORDER BY a, id ROWS BETWEEN 1 PRECEDING AND "
        "CURRENT ROW) ORDER BY id"
    )
    check(conn, rows, sql)
