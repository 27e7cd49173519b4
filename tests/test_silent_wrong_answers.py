"""Answers that used to be silently wrong: each test fails on the code before the fix
(NULLS FIRST/LAST ignored, INSERT ... SELECT writing a field named after an expression and
reporting no rows, a column typo without a note, a false missing-collection note for a
table function, a bare string bound as parameters character by character, '' read as a
projection exclusion)."""

from __future__ import annotations

import json

import pytest

import queryleaf
from tests.test_repl import USERS, session


@pytest.fixture
def people(conn: queryleaf.Connection) -> queryleaf.Connection:
    conn.db.people.insert_many(
        [
            {"_id": 1, "name": "ann", "age": 30},
            {"_id": 2, "name": "bob", "age": None},
            {"_id": 3, "name": "cy", "age": 20},
            {"_id": 4, "name": "dee"},
        ]
    )
    return conn


def names(conn: queryleaf.Connection, sql: str) -> list[str]:
    return [row["name"] for row in conn.run_sql(sql).rows]


def test_order_by_nulls_last_puts_nulls_last(people):
    got = names(people, "SELECT name FROM people ORDER BY age NULLS LAST, name")
    assert got == ["cy", "ann", "bob", "dee"]
    assert '"__nulls0"' in people.explain("SELECT name FROM people ORDER BY age NULLS LAST")


def test_order_by_desc_nulls_first_puts_nulls_first(people):
    got = names(people, "SELECT name FROM people ORDER BY age DESC NULLS FIRST, name LIMIT 3")
    assert got == ["bob", "dee", "ann"]
    # The default placements stay plain $sort keys (and a find).
    assert names(people, "SELECT name FROM people ORDER BY age, name") == [
        "bob",
        "dee",
        "cy",
        "ann",
    ]
    assert '"find"' in people.explain("SELECT name FROM people ORDER BY age NULLS FIRST")


def test_nulls_last_after_a_union_and_on_an_expression(people):
    rows = people.run_sql("SELECT age FROM people UNION ALL SELECT 25 ORDER BY age NULLS LAST").rows
    assert [row["age"] for row in rows] == [20, 25, 30, None, None]
    rows = people.run_sql("SELECT age + 1 AS a FROM people ORDER BY age + 1 NULLS LAST").rows
    assert [row["a"] for row in rows] == [21, 31, None, None]


def test_nulls_last_in_a_window(people):
    rows = people.run_sql(
        "SELECT name, ROW_NUMBER() OVER (ORDER BY age NULLS LAST, name) AS r, "
        "SUM(age) OVER (ORDER BY age NULLS LAST) AS s FROM people ORDER BY r"
    ).rows
    assert [(r["name"], r["r"], r["s"]) for r in rows] == [
        ("cy", 1, 20),
        ("ann", 2, 50),
        ("bob", 3, 50),
        ("dee", 4, 50),
    ]
    ranked = people.run_sql(
        "SELECT name, RANK() OVER (ORDER BY age DESC NULLS FIRST) AS r FROM people ORDER BY r, name"
    ).rows
    assert [(r["name"], r["r"]) for r in ranked] == [("bob", 1), ("dee", 1), ("ann", 3), ("cy", 4)]


def test_the_postgresql_dialect_orders_nulls_last_by_default() -> None:
    with queryleaf.connect(dialect="postgres") as conn:
        conn.db.t.insert_many([{"_id": 1, "a": 2}, {"_id": 2}, {"_id": 3, "a": 1}])
        rows = conn.run_sql("SELECT _id, ROW_NUMBER() OVER (ORDER BY a) AS r FROM t ORDER BY a")
        assert [(r["_id"], r["r"]) for r in rows.rows] == [(3, 1), (1, 2), (2, 3)]


def test_insert_select_without_a_column_list_refuses_an_unnamed_expression(people):
    with pytest.raises(queryleaf.QueryLeafError) as error:
        people.run_sql("INSERT INTO people SELECT age + 10, name FROM people")
    assert error.value.code == "QL304"
    assert "list the target columns" in str(error.value)
    assert people.db.people.count_documents({}) == 4  # nothing written


def test_insert_select_reports_the_rows_written(people):
    result = people.run_sql("INSERT INTO older (name, age) SELECT name, age + 10 FROM people")
    assert result.rowcount == 4
    rows = people.run_sql("SELECT name, age FROM older ORDER BY name").rows
    assert rows == [
        {"name": "ann", "age": 40},
        {"name": "bob", "age": None},
        {"name": "cy", "age": 30},
        {"name": "dee", "age": None},
    ]
    aliased = people.run_sql(
        "INSERT INTO older SELECT name, age AS years FROM people WHERE age > 25"
    )
    assert aliased.rowcount == 1
    assert people.db.older.count_documents({"years": 30}) == 1


def test_a_column_typo_gets_a_note_with_the_close_matches(conn):
    conn.run_sql(USERS)
    result = session(conn, "SELECT nmae FROM users;\nSELECT name FROM users LIMIT 1;\n\\q\n")
    assert result.err.count("note:") == 1
    assert "no sampled document of users has a field nmae" in result.err
    assert "did you mean name" in result.err


def test_a_table_function_is_not_a_missing_collection(conn):
    result = session(conn, "SELECT * FROM EVENT_SUBSCRIPTIONS();\n\\q\n")
    assert "no collection" not in result.err


def test_a_bare_string_is_not_a_list_of_parameters(conn):
    with pytest.raises(queryleaf.QueryLeafError) as error:
        conn.run_sql("SELECT ? AS x", "abc")  # type: ignore[arg-type]
    assert error.value.code == "QL404"
    assert conn.run_sql("SELECT ? AS x", ["abc"]).rows == [{"x": "abc"}]


def test_an_empty_string_in_the_select_list(people):
    rows = people.run_sql("SELECT _id, '' AS v FROM people ORDER BY _id LIMIT 2").rows
    assert rows == [{"_id": 1, "v": ""}, {"_id": 2, "v": ""}]
    assert json.loads(people.explain("SELECT name, '' AS v FROM people"))


def test_a_decimal_field_compared_with_a_literal_with_a_point(conn):
    from bson import Decimal128

    conn.db.prices.insert_many(
        [
            {"_id": 1, "p": Decimal128("19.99")},
            {"_id": 2, "p": 19.99},
            {"_id": 3, "p": Decimal128("20.00")},
            {"_id": 4, "p": Decimal128("0.1")},
        ]
    )

    def ids(where: str) -> list[int]:
        return [
            r["_id"]
            for r in conn.run_sql(f"SELECT _id FROM prices WHERE {where} ORDER BY _id").rows
        ]

    assert ids("p = 19.99") == [1, 2]
    assert ids("p > 19.99") == [3]
    assert ids("p >= 19.99") == [1, 2, 3]
    assert ids("p < 19.99") == [4]
    assert ids("p <> 19.99") == [3, 4]
    assert ids("p IN (0.1, 20)") == [3, 4]
    rows = conn.run_sql("SELECT _id, p = 19.99 AS e FROM prices ORDER BY _id").rows
    assert [r["e"] for r in rows] == [True, True, False, False]


def test_a_derived_tables_column_list_is_applied_not_ignored(people):
    rows = people.run_sql(
        "SELECT q.years FROM (SELECT name, age FROM people WHERE age > 25) AS q(who, years)"
    ).rows
    assert rows == [{"years": 30}]


@pytest.mark.parametrize(
    ("sql", "code", "words"),
    [
        ("SELECT * FROM (SELECT name FROM people) q(a, b)", "QL304", "2 column names"),
        ("SELECT * FROM (SELECT * FROM people) q(a)", "QL201", "cannot rename"),
        ("SELECT x.b FROM people AS x(b)", "QL201", "cannot rename the fields of people"),
    ],
)
def test_a_column_list_that_cannot_apply_is_refused(people, sql, code, words):
    with pytest.raises(queryleaf.QueryLeafError) as error:
        people.run_sql(sql)
    assert error.value.code == code
    assert words in str(error.value)


def test_sum_and_avg_of_a_condition_count_it_as_one_or_zero(people):
    """MySQL's conditional count: SUM(age > 25) is the number of rows where it holds (NULL
    rows skipped); MongoDB's $sum alone skips booleans and gave NULL."""
    rows = people.run_sql(
        "SELECT SUM(age > 25) AS older, AVG(age > 25) AS share, SUM(name = 'bob') AS bobs, "
        "SUM(age IS NULL) AS unknown FROM people"
    ).rows
    assert rows == [{"older": 1, "share": 0.5, "bobs": 1, "unknown": 2}]
    running = people.run_sql(
        "SELECT _id, SUM(age > 25) OVER (ORDER BY _id) AS n FROM people ORDER BY _id"
    ).rows
    assert [r["n"] for r in running] == [1, 1, 1, 1]


def test_an_alias_inside_an_order_by_expression_sorts_by_its_value(people):
    sql = "SELECT name AS who, age AS years FROM people ORDER BY years * -1, who"
    assert [r["who"] for r in people.run_sql(sql).rows] == ["bob", "dee", "ann", "cy"]


def test_a_window_alias_inside_an_order_by_expression_is_refused(people):
    with pytest.raises(queryleaf.QueryLeafError) as error:
        people.run_sql("SELECT name, RANK() OVER (ORDER BY age) AS r FROM people ORDER BY r * -1")
    assert error.value.code == "QL201"
    assert "order by r alone" in str(error.value)
