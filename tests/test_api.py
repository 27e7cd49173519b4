"""The Python API: connect(), run_sql(), Result, parameters and EXPLAIN."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from bson import ObjectId

import queryleaf


def test_connection_round_trip_and_result_shape(conn) -> None:
    inserted = conn.run_sql("INSERT INTO users (name, age) VALUES ('ada', 36), ('alan', 41)")
    assert inserted.rowcount == 2
    assert inserted.kind == "insert"
    assert inserted.rows == []
    result = conn.run_sql("SELECT age, name FROM users ORDER BY age DESC")
    assert result.columns == ["age", "name"]
    assert result.rows == [{"age": 41, "name": "alan"}, {"age": 36, "name": "ada"}]
    assert [list(row) for row in result.rows] == [["age", "name"], ["age", "name"]]
    assert result.kind == "find"
    assert result.plan is not None and result.plan.command["find"] == "users"
    assert result.scalar() == 41
    assert list(result) == result.rows


def test_module_run_sql_accepts_a_pymongo_database(conn) -> None:
    conn.db.things.insert_one({"_id": 1, "n": 5})
    result = queryleaf.run_sql("SELECT n FROM things", db=conn.db)
    assert result.rows == [{"n": 5}]


def test_module_run_sql_without_db_uses_a_fresh_embedded_engine() -> None:
    assert queryleaf.run_sql("SELECT 40 + 2 AS answer").rows == [{"answer": 42}]


def test_connect_is_a_context_manager() -> None:
    with queryleaf.connect(database="other") as connection:
        assert connection.backend == "embedded"
        assert connection.db.name == "other"
        connection.run_sql("INSERT INTO t (a) VALUES (1)")
        assert connection.db.t.count_documents({}) == 1


def test_embedded_connections_are_independent() -> None:
    with queryleaf.connect() as first, queryleaf.connect() as second:
        first.run_sql("INSERT INTO t (a) VALUES (1)")
        assert second.run_sql("SELECT COUNT(*) FROM t").rows == [{"count": 0}]


def test_positional_and_named_parameters_bind_values(conn) -> None:
    conn.run_sql("INSERT INTO users (name, age) VALUES (?, ?), (?, ?)", ["ada", 36, "bob", 20])
    named = conn.run_sql("SELECT name FROM users WHERE age > :min", {"min": 30})
    assert named.rows == [{"name": "ada"}]
    # A value that looks like SQL stays a value.
    injected = conn.run_sql("SELECT name FROM users WHERE name = ?", ["x' OR '1'='1"])
    assert injected.rows == []


def test_parameters_carry_bson_values(conn) -> None:
    oid = ObjectId()
    when = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    conn.run_sql("INSERT INTO ev (_id, at) VALUES (?, ?)", [oid, when])
    result = conn.run_sql("SELECT _id FROM ev WHERE at >= ?", [when])
    assert result.rows == [{"_id": oid}]


def test_explain_shows_the_command_without_running_it(conn) -> None:
    result = conn.run_sql("EXPLAIN DELETE FROM users WHERE age > 30")
    assert result.kind == "explain"
    assert result.columns == ["command", "notes"]
    command = json.loads(result.rows[0]["command"])
    assert command == {"delete": "users", "deletes": [{"q": {"age": {"$gt": 30}}, "limit": 0}]}
    conn.db.users.insert_one({"age": 40})
    conn.run_sql("EXPLAIN DELETE FROM users WHERE age > 30")
    assert conn.db.users.count_documents({}) == 1


def test_explain_text_api(conn) -> None:
    text = conn.explain("SELECT name FROM users WHERE name LIKE 'a%'")
    assert json.loads(text) == {
        "find": "users",
        "filter": {"name": {"$regex": {"$regularExpression": {"pattern": "^a", "options": "s"}}}},
        "projection": {"name": 1, "_id": 0},
    }


def test_script_yields_one_result_per_statement(conn) -> None:
    results = list(
        conn.execute_script("INSERT INTO t (a) VALUES (1); -- note\nSELECT a FROM t; ; ")
    )
    assert [r.kind for r in results] == ["insert", "find"]
    assert results[1].rows == [{"a": 1}]


def test_plans_are_cached_on_the_text(conn) -> None:
    first = conn.run_sql("SELECT a FROM cache_me")
    second = conn.run_sql("SELECT a FROM cache_me")
    assert first.plan is second.plan


@pytest.mark.parametrize(
    "uri", ["mongodb://localhost:1/", "mongodb+srv://user:pw@example.invalid/"]
)
def test_mongodb_uris_select_the_pymongo_backend(uri: str) -> None:
    try:
        connection = queryleaf.connect(uri)
    except queryleaf.BackendError as error:
        # An SRV URI needs DNS, which may be unavailable; the error must not leak the password.
        assert "pw@" not in str(error)
        return
    try:
        assert connection.backend == "mongodb"
        assert type(connection.db).__module__.startswith("pymongo")
    finally:
        connection.close()


def test_explain_warns_about_collections_that_do_not_exist(conn) -> None:
    conn.run_sql("INSERT INTO users (a) VALUES (1)")
    result = conn.run_sql(
        "EXPLAIN SELECT u.a FROM users u JOIN orderz o ON o.x = u.a "
        "UNION ALL SELECT b FROM other_missing"
    )
    assert result.warnings == [
        "collection orderz does not exist",
        "collection other_missing does not exist",
    ]
    assert "orderz" in result.rows[0]["notes"]


def test_positional_parameters_bind_in_text_order_with_limit(conn) -> None:
    conn.db.o.insert_many([{"_id": i, "amt": a} for i, a in [(10, 5), (11, 7), (12, 9), (13, 1)]])
    sql = "SELECT _id FROM o WHERE amt > ? ORDER BY _id LIMIT ?"
    assert conn.run_sql(sql, [4, 2]).rows == [{"_id": 10}, {"_id": 11}]
    # MySQL's LIMIT offset, count
    assert conn.run_sql("SELECT _id FROM o ORDER BY _id LIMIT ?, ?", [1, 2]).rows == [
        {"_id": 11},
        {"_id": 12},
    ]
    assert conn.run_sql("SELECT _id FROM o ORDER BY _id LIMIT ? OFFSET ?", [1, 2]).rows == [
        {"_id": 12}
    ]


def test_parameters_in_a_with_statement(conn) -> None:
    conn.db.o.insert_many([{"uid": 1, "amt": 5}, {"uid": 1, "amt": 7}, {"uid": 2, "amt": 9}])
    sql = "WITH a AS (SELECT uid, amt FROM o WHERE amt > ?) SELECT uid, amt FROM a WHERE uid = ?"
    assert conn.run_sql(sql, [6, 1]).rows == [{"uid": 1, "amt": 7}]


def test_a_regex_parameter_is_a_value_not_a_pattern(conn) -> None:
    import re

    from bson import Regex

    conn.run_sql("INSERT INTO t (_id, name) VALUES (1, 'ann'), (2, 'bob')")
    assert conn.run_sql("DELETE FROM t WHERE name = ?", [re.compile(".*")]).rowcount == 0
    assert conn.run_sql("DELETE FROM t WHERE name IN (?, 'zzz')", [Regex("^a")]).rowcount == 0
    assert conn.db.t.count_documents({}) == 2
