"""INSERT, UPDATE and DELETE: row counts and the state they leave."""

from __future__ import annotations

import pytest


def docs(conn, collection: str) -> list[dict]:
    return list(conn.db[collection].find({}, {"_id": 0}, sort=[("n", 1)]))


def test_insert_multi_row_with_nested_and_array_values(conn) -> None:
    result = conn.run_sql(
        "INSERT INTO t (n, `address.city`, tags, meta) VALUES "
        "(1, 'London', JSON_ARRAY('a', 'b'), JSON_OBJECT('k', JSON_OBJECT('deep', TRUE))), "
        "(2, NULL, JSON_ARRAY(), NULL)"
    )
    assert result.rowcount == 2
    assert docs(conn, "t") == [
        {"n": 1, "address": {"city": "London"}, "tags": ["a", "b"], "meta": {"k": {"deep": True}}},
        {"n": 2, "address": {"city": None}, "tags": [], "meta": None},
    ]


def test_insert_whole_documents(conn) -> None:
    conn.run_sql("INSERT INTO t VALUES (JSON_OBJECT('n', 1, 'x', 'y'))")
    assert docs(conn, "t") == [{"n": 1, "x": "y"}]


def test_insert_select_copies_rows_in_one_pipeline(conn) -> None:
    conn.db.src.insert_many([{"n": 1, "v": "a"}, {"n": 2, "v": "b"}, {"n": 3, "v": "c"}])
    result = conn.run_sql("INSERT INTO dst (n, label) SELECT n * 10, UPPER(v) FROM src WHERE n < 3")
    assert result.plan.command["pipeline"][-1]["$merge"]["into"] == "dst"
    assert docs(conn, "dst") == [{"n": 10, "label": "A"}, {"n": 20, "label": "B"}]


def test_update_constants_on_nested_and_array_paths(conn) -> None:
    conn.db.t.insert_many(
        [{"n": 1, "a": {"b": 0}, "items": [{"qty": 1}, {"qty": 2}]}, {"n": 2, "a": {"b": 0}}]
    )
    result = conn.run_sql("UPDATE t SET a.b = 5, items[1].qty = 9 WHERE n = 1")
    assert result.rowcount == 1
    assert docs(conn, "t") == [
        {"n": 1, "a": {"b": 5}, "items": [{"qty": 1}, {"qty": 9}]},
        {"n": 2, "a": {"b": 0}},
    ]


def test_update_expressions_read_the_old_row(conn) -> None:
    conn.db.t.insert_many([{"n": 1, "x": 1, "y": 10, "name": "ada"}, {"n": 2, "x": 5, "y": 0}])
    result = conn.run_sql("UPDATE t SET x = x + 1, y = x * 100, name = UPPER(name)")
    assert result.rowcount == 2
    assert docs(conn, "t") == [
        {"n": 1, "x": 2, "y": 100, "name": "ADA"},
        {"n": 2, "x": 6, "y": 500, "name": None},
    ]


def test_update_limit_one(conn) -> None:
    conn.db.t.insert_many([{"n": 1, "s": 0}, {"n": 2, "s": 0}])
    assert conn.run_sql("UPDATE t SET s = 1 WHERE s = 0 LIMIT 1").rowcount == 1
    assert conn.db.t.count_documents({"s": 1}) == 1


def test_delete_with_where_and_without(conn) -> None:
    conn.db.t.insert_many([{"n": i, "odd": i % 2 == 1} for i in range(5)])
    assert conn.run_sql("DELETE FROM t WHERE odd = TRUE").rowcount == 2
    assert [d["n"] for d in docs(conn, "t")] == [0, 2, 4]
    assert conn.run_sql("DELETE FROM t").rowcount == 3
    assert docs(conn, "t") == []


def test_delete_respects_null_semantics(conn) -> None:
    conn.db.t.insert_many([{"n": 1, "s": "a"}, {"n": 2, "s": None}, {"n": 3}])
    # s != 'a' is unknown for NULL and missing: those rows stay.
    assert conn.run_sql("DELETE FROM t WHERE s != 'a'").rowcount == 0
    assert conn.run_sql("DELETE FROM t WHERE NOT (s = 'b')").rowcount == 1
    assert [d["n"] for d in docs(conn, "t")] == [2, 3]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE t SET n = 1 ORDER BY n LIMIT 1",
        "DELETE FROM t LIMIT 5",
        "INSERT INTO t (a) VALUES (RAND())",
    ],
)
def test_unsupported_writes_are_refused_before_running(conn, statement: str) -> None:
    import queryleaf

    conn.db.t.insert_one({"n": 0})
    with pytest.raises(queryleaf.UnsupportedError):
        conn.run_sql(statement)
    assert docs(conn, "t") == [{"n": 0}]


def test_insert_select_star_is_refused_before_running(conn) -> None:
    import queryleaf

    conn.db.src.insert_one({"n": 1})
    with pytest.raises(queryleaf.UnsupportedError):
        conn.run_sql("INSERT INTO dst SELECT * FROM src")
    assert conn.db.dst.count_documents({}) == 0


def test_insert_select_from_a_union_and_constants(conn) -> None:
    conn.db.src.insert_many([{"n": 1}, {"n": 2}])
    conn.run_sql("INSERT INTO dst (n) SELECT n FROM src UNION ALL SELECT 10")
    assert sorted(d["n"] for d in docs(conn, "dst")) == [1, 2, 10]
