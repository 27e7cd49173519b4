"""Index use (tests/cases/indexes/*.case): every sargable predicate is a plain query
operator at the start of the command, and EXPLAIN says which index serves it."""

from __future__ import annotations

import pytest

from tests.case_files import Case, case_id, load_cases

CASES = load_cases("indexes")
INDEXES = [
    "CREATE INDEX t_x ON t (x)",
    "CREATE INDEX t_k_x ON t (k, x)",
    "CREATE INDEX t_name ON t (name)",
    "CREATE INDEX u_id ON u (id)",
    "CREATE INDEX orders_user ON orders (user_id)",
    "CREATE INDEX cse_ts ON change_stream_events (event_timestamp)",
]


@pytest.fixture
def indexed(conn):
    for statement in INDEXES:
        conn.run_sql(statement)
    conn.db.users.insert_one({"name": "ada"})  # a collection with only the _id index
    return conn


def test_the_corpus_is_there() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_index_use(indexed, case: Case) -> None:
    result = indexed.run_sql("EXPLAIN " + case["sql"], case.get("params"))
    notes = (result.rows[0]["notes"] or "").splitlines()
    found = [line for line in notes if line.startswith("index use on ")]
    assert found == case["notes"].splitlines()


def test_a_filter_moved_before_a_projection_keeps_the_rows(conn) -> None:
    conn.db.t.insert_many([{"a": i, "x": i * 10} for i in range(5)] + [{"a": 9}])
    rows = conn.run_sql(
        "SELECT a, y FROM (SELECT a, x AS y FROM t) s WHERE y > 15 OR y IS NULL ORDER BY a"
    ).rows
    assert rows == [{"a": 2, "y": 20}, {"a": 3, "y": 30}, {"a": 4, "y": 40}, {"a": 9, "y": None}]


def test_folded_date_arithmetic_keeps_the_rows(conn) -> None:
    import datetime as dt

    days = [dt.datetime(2024, 2, day, tzinfo=dt.UTC) for day in (27, 28, 29)]
    conn.db.t.insert_many([{"a": i, "d": d} for i, d in enumerate(days)] + [{"a": 9, "d": "x"}])
    sql = "SELECT a FROM t WHERE d >= DATE_ADD('2024-01-31', INTERVAL 1 MONTH) - INTERVAL 1 DAY"
    assert conn.run_sql(sql).rows == [{"a": 1}, {"a": 2}]


def test_a_hashed_index_serves_equality_only(conn) -> None:
    conn.db.h.create_index([("x", "hashed")], name="h_x")
    conn.db.h.insert_one({"x": 1})

    def notes(sql: str) -> list[str]:
        text = conn.run_sql("EXPLAIN " + sql).rows[0]["notes"] or ""
        return [line for line in text.splitlines() if line.startswith("index use on ")]

    assert notes("SELECT a FROM h WHERE x = 5") == [
        "index use on h: x ($eq): index-usable, served by index h_x"
    ]
    assert notes("SELECT a FROM h WHERE x > 5") == [
        "index use on h: x ($gt): index-usable, no index on x"
    ]
