"""Uncorrelated scalar subqueries compared with a column in WHERE run once, first, and
their value is bound into the outer filter (an index can serve it); correlated ones stay in
the pipeline."""

from __future__ import annotations

from queryleaf.plan.scalar_steps import StepsPlan


def _fill(conn) -> None:
    conn.db.t.insert_many([{"a": i, "x": i * 3} for i in range(6)] + [{"a": 9, "x": None}])
    conn.db.u.insert_many([{"a": i, "y": i} for i in range(6)])


def test_uncorrelated_subqueries_run_first_and_bind_their_value(conn) -> None:
    _fill(conn)
    result = conn.run_sql("SELECT a FROM t WHERE x = (SELECT MAX(x) FROM t)")
    assert isinstance(result.plan, StepsPlan)
    assert result.rows == [{"a": 5}]
    rows = conn.run_sql("SELECT a FROM t WHERE x > (SELECT AVG(y) FROM u) ORDER BY a").rows
    assert rows == [{"a": 1}, {"a": 2}, {"a": 3}, {"a": 4}, {"a": 5}]
    both = "SELECT a FROM t WHERE x >= (SELECT MIN(y) FROM u WHERE y > :lo) AND x < (SELECT MAX(y) FROM u) ORDER BY a"
    assert conn.run_sql(both, {"lo": 2}).rows == [{"a": 1}]


def test_a_subquery_without_rows_is_null(conn) -> None:
    _fill(conn)
    assert conn.run_sql("SELECT a FROM t WHERE x > (SELECT y FROM u WHERE a = 99)").rows == []
    assert conn.run_sql("SELECT a FROM t WHERE x <> (SELECT y FROM u WHERE a = 99)").rows == []


def test_correlated_subqueries_stay_in_the_pipeline(conn) -> None:
    _fill(conn)
    sql = "SELECT a FROM t o WHERE x = (SELECT MAX(x) FROM t i WHERE i.a = o.a) ORDER BY a"
    result = conn.run_sql(sql)
    assert not isinstance(result.plan, StepsPlan)
    assert result.rows == [{"a": i} for i in range(6)]
    other = "SELECT a FROM t WHERE x = (SELECT MAX(y) FROM u WHERE u.a = t.a) ORDER BY a"
    assert conn.run_sql(other).rows == [{"a": 0}]


def test_explain_says_the_statement_runs_in_two_steps(conn) -> None:
    _fill(conn)
    row = conn.run_sql("EXPLAIN SELECT a FROM t WHERE x = (SELECT MAX(x) FROM t)").rows[0]
    assert "runs in 2 steps" in row["notes"]
    assert "index use on t: x ($eq): index-usable" in row["notes"]
    assert row["command"].lstrip().startswith("[")


def test_an_outer_table_named_like_an_aliased_inner_one_is_a_correlation(conn) -> None:
    conn.db.t.insert_many(
        [{"a": 1, "x": 10, "k": 1}, {"a": 2, "x": 20, "k": 2}, {"a": 3, "x": 5, "k": 1}]
    )
    sql = "SELECT a FROM t WHERE x = (SELECT MAX(x) FROM t t2 WHERE t2.k = t.k) ORDER BY a"
    result = conn.run_sql(sql)
    assert not isinstance(result.plan, StepsPlan)
    assert result.rows == [{"a": 1}, {"a": 2}]


def test_a_reference_to_an_outer_derived_table_is_a_correlation(conn) -> None:
    conn.db.t.insert_many(
        [{"a": 1, "x": 10, "k": 1}, {"a": 2, "x": 20, "k": 2}, {"a": 3, "x": 5, "k": 1}]
    )
    conn.db.s.insert_many([{"y": 10, "k": 1}, {"y": 20, "k": 2}, {"y": 7, "k": 1}])
    sql = (
        "SELECT a FROM (SELECT * FROM t) d "
        "WHERE x = (SELECT MAX(y) FROM s WHERE s.k = d.k) ORDER BY a"
    )
    result = conn.run_sql(sql)
    assert not isinstance(result.plan, StepsPlan)
    assert result.rows == [{"a": 1}, {"a": 2}]
