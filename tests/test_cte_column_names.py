"""WITH c(x, y) AS (...): the listed names are the CTE's columns for `SELECT *` as well as
for named references."""

from __future__ import annotations


def test_select_star_from_a_cte_uses_its_column_list(conn) -> None:
    conn.run_sql("INSERT INTO src (_id, a, b) VALUES (1, 10, 'p'), (2, 20, 'q')")
    rows = conn.run_sql("WITH c(x, y) AS (SELECT a, b FROM src) SELECT * FROM c ORDER BY x").rows
    assert rows == [{"x": 10, "y": "p"}, {"x": 20, "y": "q"}]
    named = conn.run_sql("WITH c(x, y) AS (SELECT a, b FROM src) SELECT y FROM c WHERE x > 15")
    assert named.rows == [{"y": "q"}]
    swapped = "WITH c(b, a) AS (SELECT a, b FROM src) SELECT a, b FROM c ORDER BY b"
    assert conn.run_sql(swapped).rows == [{"a": "p", "b": 10}, {"a": "q", "b": 20}]
