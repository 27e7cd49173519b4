"""Type bracketing with document and array constants and parameters, in reads and writes:
`v != JSON_OBJECT(...)` compares documents with documents only, as a comparison with a
string compares strings only. And a bare value as a condition (`WHERE v`): MySQL's numeric
truth for numbers and booleans (checked against SQLite), UNKNOWN for NULL and other types."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

DOCUMENTS = [
    {"_id": 1, "v": 1},
    {"_id": 2, "v": "s"},
    {"_id": 3, "v": dt.datetime(2024, 1, 1)},
    {"_id": 4, "v": {"q": 1}},
    {"_id": 5, "v": {"q": 2}},
    {"_id": 6, "v": [1]},
    {"_id": 7, "v": [2]},
    {"_id": 8, "v": None},
    {"_id": 9},
    {"_id": 10, "v": 0},
    {"_id": 11, "v": True},
    {"_id": 12, "v": ""},
    {"_id": 13, "v": -2.5},
    {"_id": 14, "v": False},
]


@pytest.fixture
def t(conn):
    conn.db.t.insert_many([dict(d) for d in DOCUMENTS])
    return conn


def ids(conn, sql: str, params=None) -> list[int]:
    return sorted(row["_id"] for row in conn.run_sql(sql, params).rows)


@pytest.mark.parametrize(
    ("condition", "params", "expected"),
    [
        ("v != JSON_OBJECT('q', 1)", None, [5]),
        ("v = JSON_OBJECT('q', 1)", None, [4]),
        ("v < JSON_OBJECT('q', 3)", None, [4, 5]),
        ("v >= JSON_OBJECT('q', 2)", None, [5]),
        ("v != JSON_ARRAY(1)", None, [7]),
        ("v != ?", [{"q": 1}], [5]),
        ("v > ?", [{"q": 1}], [5]),
        ("v != ?", [[2]], [6]),
        ("v NOT IN (JSON_OBJECT('q', 1))", None, [5]),
        ("NOT (v = JSON_OBJECT('q', 1))", None, [5]),
    ],
)
def test_document_and_array_constants_compare_within_their_type(
    t, condition: str, params, expected: list[int]
) -> None:
    assert ids(t, f"SELECT _id FROM t WHERE {condition}", params) == expected


def test_a_delete_with_a_document_constant_deletes_only_documents(t) -> None:
    result = t.run_sql("DELETE FROM t WHERE v != JSON_OBJECT('q', 1)")
    assert result.rowcount == 1
    assert sorted(d["_id"] for d in t.db.t.find()) == [d["_id"] for d in DOCUMENTS if d["_id"] != 5]


def test_an_update_with_a_document_parameter_updates_only_documents(t) -> None:
    result = t.run_sql("UPDATE t SET w = 1 WHERE v != ?", [{"q": 2}])
    assert result.rowcount == 1
    assert [d["_id"] for d in t.db.t.find({"w": 1})] == [4]


def test_a_bare_value_as_a_condition(t) -> None:
    assert ids(t, "SELECT _id FROM t WHERE v") == [1, 11, 13]
    assert ids(t, "SELECT _id FROM t WHERE NOT v") == [10, 14]
    # strings, dates, documents, arrays, NULL and missing are neither TRUE nor FALSE
    everything = {d["_id"] for d in DOCUMENTS}
    unknown = everything - {1, 11, 13, 10, 14}
    assert unknown == {2, 3, 4, 5, 6, 7, 8, 9, 12}


def test_numeric_truth_matches_sqlite(conn) -> None:
    values = [1, 0, -2.5, 0.0, 7, None, 3.25, -1]
    conn.db.n.insert_many([{"_id": i, "v": v} for i, v in enumerate(values)])
    conn.db.n.insert_one({"_id": len(values)})  # missing is NULL in SQL
    lite = sqlite3.connect(":memory:")
    lite.execute("CREATE TABLE n (id INTEGER, v)")
    lite.executemany("INSERT INTO n VALUES (?, ?)", [*enumerate(values), (len(values), None)])
    for condition in ("v", "NOT v", "v AND v > -5", "v OR v IS NULL"):
        expected = sorted(r[0] for r in lite.execute(f"SELECT id FROM n WHERE {condition}"))
        assert ids(conn, f"SELECT _id FROM n WHERE {condition}") == expected, condition
