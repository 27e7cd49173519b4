"""A shift by NULL is NULL, as in MySQL (`2 << NULL`), not a refused computed count."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("expression", ["a << NULL", "a >> NULL", "NULL << 2"])
def test_a_shift_with_null_is_null(conn, expression):
    conn.db.t.insert_one({"_id": 1, "a": 12})
    assert conn.run_sql(f"SELECT {expression} AS x FROM t").rows == [{"x": None}]
