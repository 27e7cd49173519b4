"""A subquery used as a value returns at most one row: several rows are QL502, as MySQL's
error 1242 ("Subquery returns more than 1 row"), never the first row taken silently. Run
first as a step, it fetches at most two rows; read through a `$lookup` per outer row, the
error comes for an outer row whose subquery finds several. (Compared with MariaDB in
tests/test_differential_mariadb.py.)"""

from __future__ import annotations

import json

import pytest

import queryleaf
from queryleaf.plan.scalar_steps import StepsPlan


def _fill(conn) -> None:
    conn.db.t.insert_many(
        [{"k": 1, "v": 10}, {"k": 2, "v": 20}, {"k": 2, "v": 30}, {"k": 3, "v": None}]
    )
    conn.db.u.insert_many([{"k": 1}, {"k": 2}, {"k": 3}, {"k": 4}])


def _too_many_rows(conn, sql: str) -> queryleaf.QueryLeafError:
    with pytest.raises(queryleaf.QueryLeafError) as raised:
        conn.run_sql(sql)
    error = raised.value
    assert error.code == "QL502", str(error)
    assert "more than one row" in error.message
    assert error.hint and "LIMIT 1" in error.hint
    # The alternatives the hint names run: IN (subquery) does, `= ANY (subquery)` is QL201.
    assert "IN (subquery)" in error.hint and "ANY" not in error.hint
    return error


def test_a_step_subquery_with_several_rows_is_an_error(conn) -> None:
    _fill(conn)
    _too_many_rows(conn, "SELECT k FROM u WHERE k = (SELECT k FROM t WHERE v >= 20)")
    _too_many_rows(conn, "SELECT k FROM u WHERE k > (SELECT k FROM t)")
    # One row, none, or several cut to one are values, as in MySQL.
    assert conn.run_sql("SELECT k FROM u WHERE k = (SELECT k FROM t WHERE v = 30)").rows == [
        {"k": 2}
    ]
    assert conn.run_sql("SELECT k FROM u WHERE k = (SELECT k FROM t WHERE v = 99)").rows == []
    limited = "SELECT k FROM u WHERE k = (SELECT k FROM t ORDER BY v DESC LIMIT 1) ORDER BY k"
    assert conn.run_sql(limited).rows == [{"k": 2}]
    grouped = "SELECT k FROM u WHERE k = (SELECT MAX(k) FROM t WHERE v >= 20)"
    assert conn.run_sql(grouped).rows == [{"k": 2}]
    assert isinstance(conn.run_sql(grouped).plan, StepsPlan)


def test_a_step_fetches_at_most_two_rows(conn) -> None:
    _fill(conn)
    found = "SELECT k FROM u WHERE k = (SELECT k FROM t WHERE v >= 20)"
    (row,) = conn.run_sql(f"EXPLAIN {found}").rows
    step, outer = json.loads(row["command"])
    assert step["find"] == "t" and step["limit"] == 2
    assert "limit" not in outer
    piped = "SELECT k FROM u WHERE k = (SELECT k + 1 AS k FROM t WHERE v >= 20)"
    step, _ = json.loads(conn.run_sql(f"EXPLAIN {piped}").rows[0]["command"])
    assert step["pipeline"][-1] == {"$limit": 2}
    kept = "SELECT k FROM u WHERE k = (SELECT k FROM t ORDER BY v LIMIT 1)"
    step, _ = json.loads(conn.run_sql(f"EXPLAIN {kept}").rows[0]["command"])
    assert step["limit"] == 1


def test_a_select_list_subquery_with_several_rows_is_an_error(conn) -> None:
    _fill(conn)
    # Correlated: only the outer row k = 2 finds two rows.
    _too_many_rows(conn, "SELECT k, (SELECT v FROM t WHERE t.k = u.k) AS v FROM u")
    one_each = "SELECT k, (SELECT v FROM t WHERE t.k = u.k) AS v FROM u WHERE k <> 2 ORDER BY k"
    assert conn.run_sql(one_each).rows == [
        {"k": 1, "v": 10},
        {"k": 3, "v": None},
        {"k": 4, "v": None},
    ]
    # Uncorrelated in the select list: a `$lookup`, the same error.
    _too_many_rows(conn, "SELECT k, (SELECT v FROM t WHERE k = 2) AS v FROM u")
    single = "SELECT k, (SELECT v FROM t WHERE k = 1) AS v FROM u ORDER BY k LIMIT 2"
    assert conn.run_sql(single).rows == [{"k": 1, "v": 10}, {"k": 2, "v": 10}]


def test_a_correlated_where_subquery_with_several_rows_is_an_error(conn) -> None:
    _fill(conn)
    _too_many_rows(conn, "SELECT k FROM u WHERE 20 = (SELECT v FROM t WHERE t.k = u.k)")
    fine = "SELECT k FROM u WHERE 10 = (SELECT v FROM t WHERE t.k = u.k AND t.v < 25)"
    assert conn.run_sql(fine).rows == [{"k": 1}]


def test_no_outer_row_no_error(conn) -> None:
    """MySQL evaluates a select-list subquery per outer row: no row, nothing to refuse."""
    _fill(conn)
    none = "SELECT k, (SELECT v FROM t WHERE t.k = u.k) AS v FROM u WHERE k > 10"
    assert conn.run_sql(none).rows == []


def test_a_value_that_reads_like_the_several_rows_error_is_not_that_error(conn) -> None:
    """Only the refusal the planner builds is QL502: another error whose message quotes a
    stored value that reads like it (a duplicate key) stays what it is."""
    from queryleaf.plan.scalar_rows import MARKER

    conn.db.u.create_index("name", unique=True)
    insert = f"INSERT INTO u (name) VALUES ('{MARKER}')"
    conn.run_sql(insert)
    with pytest.raises(queryleaf.QueryLeafError) as raised:
        conn.run_sql(insert)
    assert raised.value.code == "QL501", str(raised.value)
    assert "duplicate key" in str(raised.value).lower()


def test_the_hint_s_alternative_runs(conn) -> None:
    _fill(conn)
    several = "SELECT k FROM u WHERE k = (SELECT k FROM t WHERE v >= 10) ORDER BY k"
    _too_many_rows(conn, several)
    member = "SELECT k FROM u WHERE k IN (SELECT k FROM t WHERE v >= 10) ORDER BY k"
    assert conn.run_sql(member).rows == [{"k": 1}, {"k": 2}]


def test_a_select_list_subquery_is_read_only_for_the_rows_limit_keeps(conn) -> None:
    """MySQL (and MariaDB) evaluate the select list for the rows sent, after ORDER BY, OFFSET
    and LIMIT: an outer row that LIMIT leaves out cannot raise QL502. Sorting on the
    subquery, or DISTINCT, reads it for every row, and several rows there stay an error."""
    _fill(conn)
    column = "(SELECT v FROM t WHERE t.k = u.k)"  # the outer row k = 2 finds two rows
    first = f"SELECT k, {column} AS v FROM u ORDER BY k LIMIT 1"
    assert conn.run_sql(first).rows == [{"k": 1, "v": 10}]
    last = f"SELECT k, {column} AS v FROM u ORDER BY k DESC LIMIT 2"
    assert conn.run_sql(last).rows == [{"k": 4, "v": None}, {"k": 3, "v": None}]
    skipped = f"SELECT k, {column} AS v FROM u ORDER BY k LIMIT 1 OFFSET 2"
    assert conn.run_sql(skipped).rows == [{"k": 3, "v": None}]
    # The alias k is a computed column, not the document's k: the sort keeps its meaning.
    renamed = f"SELECT 10 - k AS k, {column} AS v FROM u ORDER BY k DESC LIMIT 1"
    assert conn.run_sql(renamed).rows == [{"k": 9, "v": 10}]
    _too_many_rows(conn, f"SELECT k, {column} AS v FROM u ORDER BY k LIMIT 2")
    _too_many_rows(conn, f"SELECT k, {column} AS v FROM u ORDER BY v LIMIT 1")
    _too_many_rows(conn, f"SELECT k FROM u ORDER BY {column} LIMIT 1")
    _too_many_rows(conn, f"SELECT DISTINCT k, {column} AS v FROM u ORDER BY k LIMIT 1")


def test_select_star_with_a_subquery_is_read_only_for_the_rows_limit_keeps(conn) -> None:
    _fill(conn)
    column = "(SELECT v FROM t WHERE t.k = u.k)"
    last = f"SELECT u.*, {column} AS v FROM u ORDER BY k DESC LIMIT 2"
    assert [(r["k"], r["v"]) for r in conn.run_sql(last).rows] == [(4, None), (3, None)]
    computed = f"SELECT *, {column} AS v FROM u ORDER BY k * -1 LIMIT 1"
    assert [(r["k"], r["v"]) for r in conn.run_sql(computed).rows] == [(4, None)]
    _too_many_rows(conn, f"SELECT u.*, {column} AS v FROM u ORDER BY v LIMIT 1")
    _too_many_rows(conn, f"SELECT u.*, {column} AS v FROM u ORDER BY k LIMIT 2")
