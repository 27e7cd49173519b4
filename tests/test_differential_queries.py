"""Differential test against SQLite for CTEs, derived tables, subqueries and set operations,
on the data and predicate generators of test_differential_sqlite."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import queryleaf
from tests.test_differential_sqlite import (
    SETTINGS,
    Columns,
    Query,
    T,
    check,
    datasets,
    predicate,
)

# The columns a CTE or derived table exposes: its own select list, under its own names.
C = Columns(numeric=("id", "x"), text=("s",))
U_NUMERIC = ("u.id", "u.t_id", "u.c")


@st.composite
def cte_queries(draw: st.DrawFn) -> Query:
    """WITH c AS (SELECT id, a|b AS x, s FROM t WHERE ...) SELECT ... FROM c WHERE ...,
    or the same through a derived table, or a CTE joined with t."""
    inner_where = draw(predicate(T))
    column = draw(st.sampled_from(["a", "b", "a + b", "COALESCE(a, 0)"]))
    inner = f"SELECT id, {column} AS x, s FROM t WHERE {inner_where}"
    outer_where = draw(predicate(C))
    shape = draw(st.sampled_from(["cte", "derived", "join", "chain"]))
    if shape == "cte":
        sql = f"WITH c AS ({inner}) SELECT id, x, s FROM c WHERE {outer_where}"
    elif shape == "derived":
        sql = f"SELECT id, x FROM ({inner}) c WHERE {outer_where}"
    elif shape == "join":
        sql = f"WITH c AS ({inner}) SELECT c.id AS cid, t.a AS a FROM c JOIN t ON t.id = c.x"
    else:
        sql = (
            f"WITH c AS ({inner}), d AS (SELECT id, x, s FROM c WHERE {outer_where}) "
            "SELECT COUNT(*) AS n, SUM(x) AS total, MIN(s) AS lo FROM d"
        )
    return Query(sql, ordered=False)


@st.composite
def subquery_queries(draw: st.DrawFn) -> Query:
    outer_where = draw(predicate(T))
    inner_where = draw(predicate(Columns(U_NUMERIC, ("u.s",))))
    column = draw(st.sampled_from(["t_id", "c", "id"]))
    operand = draw(st.sampled_from(["id", "a", "b"]))
    kind = draw(st.sampled_from(["in", "not in", "exists", "not exists", "scalar", "count"]))
    if kind in {"in", "not in"}:
        condition = f"{operand} {kind.upper()} (SELECT u.{column} FROM u WHERE {inner_where})"
    elif kind in {"exists", "not exists"}:
        condition = f"{kind.upper()} (SELECT 1 FROM u WHERE u.t_id = t.id AND {inner_where})"
    elif kind == "scalar":
        condition = f"{operand} > (SELECT MIN(u.{column}) FROM u WHERE {inner_where})"
    else:
        return Query(
            "SELECT id, (SELECT COUNT(*) FROM u WHERE u.t_id = t.id AND "
            f"{inner_where}) AS n FROM t WHERE {outer_where}",
            ordered=False,
        )
    return Query(f"SELECT id, a FROM t WHERE {condition} AND ({outer_where})", ordered=False)


@st.composite
def set_queries(draw: st.DrawFn) -> Query:
    left = draw(predicate(T))
    right = draw(predicate(Columns(U_NUMERIC, ("u.s",))))
    operator = draw(st.sampled_from(["UNION ALL", "UNION", "INTERSECT", "EXCEPT"]))
    left_column = draw(st.sampled_from(["a", "id", "b"]))
    right_column = draw(st.sampled_from(["c", "t_id", "id"]))
    sql = (
        f"SELECT {left_column} AS v, s FROM t WHERE {left} {operator} "
        f"SELECT u.{right_column}, u.s FROM u WHERE {right}"
    )
    if draw(st.booleans()):
        # A total order over the result: every column, with NULLs first as in both engines.
        return Query(sql + " ORDER BY v, s", ordered=False)
    return Query(sql, ordered=False)


@SETTINGS
@given(data=datasets(), query=cte_queries())
def test_ctes_and_derived_tables(
    conn: queryleaf.Connection, data: dict[str, Any], query: Query
) -> None:
    check(conn, data, query)


@SETTINGS
@given(data=datasets(), query=subquery_queries())
def test_subqueries(conn: queryleaf.Connection, data: dict[str, Any], query: Query) -> None:
    check(conn, data, query)


@SETTINGS
@given(data=datasets(), query=set_queries())
def test_set_operations(conn: queryleaf.Connection, data: dict[str, Any], query: Query) -> None:
    check(conn, data, query)
