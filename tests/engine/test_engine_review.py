"""Results the embedded engine must give as MongoDB does, found in review: each ran wrong once.
Tests on `conn` also run on a real MongoDB (QUERYLEAF_TEST_URI)."""

from __future__ import annotations

import math
from typing import Any

from bson import Decimal128

import queryleaf


def test_mod_of_an_infinite_dividend_is_nan(conn: queryleaf.Connection) -> None:
    # $mod on doubles is C's fmod: an infinite dividend gives NaN (no error); an infinite
    # divisor gives the dividend back.
    conn.db.t.insert_many(
        [
            {"_id": 1, "a": math.inf},
            {"_id": 2, "a": -math.inf},
            {"_id": 3, "a": 7.5},
            {"_id": 4, "a": Decimal128("Infinity")},
        ]
    )
    rows = conn.run_sql("SELECT _id, a % 3 AS r FROM t ORDER BY _id").rows
    values: list[Any] = [row["r"] for row in rows]
    assert math.isnan(values[0]) and math.isnan(values[1])
    assert values[2] == 1.5
    assert str(values[3]) == "NaN"
    pipeline = [
        {"$sort": {"_id": 1}},
        {"$project": {"m": {"$mod": ["$a", 3]}, "k": {"$mod": [5.5, "$a"]}}},
    ]
    out = list(conn.db.t.aggregate(pipeline))
    assert math.isnan(out[0]["m"]) and math.isnan(out[1]["m"])
    assert out[0]["k"] == 5.5 and out[1]["k"] == 5.5
    assert out[2]["m"] == 1.5
