"""Document and array literals in INSERT and UPDATE values, as QueryLeaf writes them:
`VALUES ('Jane', {"city": "New York"}, ['a', 'b'])`."""

from __future__ import annotations

import pytest

import queryleaf


def test_insert_with_document_and_array_literals(conn: queryleaf.Connection) -> None:
    result = conn.run_sql(
        "INSERT INTO people (name, address, tags) VALUES "
        """('Jane', {"city": "New York", "geo": {'lat': 40.7, "lon": -74}}, ['a', 'b']), """
        "('Joe', {}, [])"
    )
    assert result.rowcount == 2
    rows = conn.run_sql(
        "SELECT name, address.city, address.geo.lat, tags[1] AS second FROM people ORDER BY name"
    ).rows
    assert rows == [
        {"name": "Jane", "address.city": "New York", "address.geo.lat": 40.7, "second": "b"},
        {"name": "Joe", "address.city": None, "address.geo.lat": None, "second": None},
    ]
    joe = conn.db.people.find_one({"name": "Joe"}, {"_id": 0})
    assert joe == {"name": "Joe", "address": {}, "tags": []}


def test_update_with_literals_constant_and_computed(conn: queryleaf.Connection) -> None:
    conn.db.people.insert_one({"name": "jane"})
    conn.run_sql("""UPDATE people SET address = {"city": "Paris"}, tags = ['x', NULL]""")
    assert conn.db.people.find_one({}, {"_id": 0}) == {
        "name": "jane",
        "address": {"city": "Paris"},
        "tags": ["x", None],
    }
    conn.run_sql("""UPDATE people SET card = {"by": UPPER(name), "all": [name, 2]}""")
    assert conn.db.people.find_one({}, {"_id": 0})["card"] == {"by": "JANE", "all": ["jane", 2]}
    plan = conn.explain("""UPDATE people SET a = {"k": 1}""")
    assert '"$set"' in plan and '"k": 1' in plan


def test_a_document_literal_needs_key_value_pairs(conn: queryleaf.Connection) -> None:
    with pytest.raises(queryleaf.QueryLeafError):
        conn.run_sql("INSERT INTO people (a) VALUES ({1, 2})")
