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


def test_stages_that_change_joined_or_grouped_documents_leave_the_stored_ones(
    conn: queryleaf.Connection,
) -> None:
    # $lookup and $match read stored documents without copying them; what later stages
    # change in place ($unset, $unwind, $replaceRoot on joined or grouped documents) and
    # what the caller does to the results must never reach the collection.
    db = conn.db
    db.f.insert_many([{"_id": i, "k": i % 2, "n": {"v": i, "w": [i]}} for i in range(3)])
    db.o.insert_many([{"_id": i, "k": i % 2} for i in range(2)])
    stored = list(db.f.find().sort("_id", 1))
    lookup = {"from": "f", "localField": "k", "foreignField": "k", "as": "j"}
    grouped = [{"$group": {"_id": None, "a": {"$push": "$$ROOT"}}}, {"$unwind": "$a"}]
    pipelines: list[tuple[str, list[dict[str, Any]]]] = [
        ("o", [{"$lookup": lookup}, {"$unwind": "$j"}, {"$unset": "j.n.v"}]),
        ("o", [{"$lookup": {"from": "f", "pipeline": grouped, "as": "j"}}, {"$unset": "j.a.n"}]),
        ("o", [{"$lookup": {"from": "f", "pipeline": [*grouped, {"$unset": "a.n.v"}], "as": "j"}}]),
        ("f", [{"$match": {"k": 1}}, {"$replaceRoot": {"newRoot": "$n"}}, {"$unset": "v"}]),
        ("f", [{"$addFields": {"x": "$$ROOT"}}, {"$unset": ["x.n", "n.w"]}]),
    ]
    for name, pipeline in pipelines:
        results = list(db[name].aggregate(pipeline))
        for row in results:  # the caller scribbling on what it got
            for value in row.values():
                if isinstance(value, list) and value and isinstance(value[0], dict):
                    value[0].clear()
                elif isinstance(value, dict):
                    value.clear()
        assert list(db.f.find().sort("_id", 1)) == stored, pipeline
