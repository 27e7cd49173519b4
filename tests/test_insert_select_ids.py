"""INSERT ... SELECT with `_id` in its column list stores the selected value as `_id` (not a
new ObjectId), with or without FROM; a duplicate `_id` fails the statement."""

from __future__ import annotations

import pytest

from queryleaf.errors import QueryLeafError


def test_selected_id_is_stored(conn) -> None:
    conn.run_sql("INSERT INTO src (_id, a, b) VALUES (1, 10, 2), (2, 20, 3)")
    assert conn.run_sql("INSERT INTO dst (_id, x) SELECT a, b FROM src").rowcount == 2
    rows = conn.run_sql("SELECT _id, x FROM dst ORDER BY _id").rows
    assert rows == [{"_id": 10, "x": 2}, {"_id": 20, "x": 3}]


def test_selected_id_without_from(conn) -> None:
    conn.run_sql("INSERT INTO dst (_id) SELECT 7")
    conn.run_sql("INSERT INTO dst (_id, x) SELECT 8, 'y'")
    rows = conn.run_sql("SELECT _id, x FROM dst ORDER BY _id").rows
    assert rows == [{"_id": 7, "x": None}, {"_id": 8, "x": "y"}]
    with pytest.raises(QueryLeafError):
        conn.run_sql("INSERT INTO dst (_id) SELECT 7")
    assert conn.run_sql("SELECT COUNT(*) AS n FROM dst").rows == [{"n": 2}]
