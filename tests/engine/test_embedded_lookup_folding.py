"""The embedded engine's shortcuts give MongoDB's answers: an uncorrelated $lookup
sub-pipeline run once, leading $match stages applied before copying, $expr joins
pre-selected by hash, and expressions that read no document computed once per run."""

from __future__ import annotations

import datetime as dt

import pytest
from pymongo.errors import OperationFailure


@pytest.fixture
def joined(db):
    db.outer.insert_many([{"_id": i, "v": v} for i, v in enumerate(["a", 1, 1.0, None, "b"])])
    db.inner.insert_many(
        [
            {"_id": 10, "k": "a", "n": 1},
            {"_id": 11, "k": 1, "n": 2},
            {"_id": 12, "k": 1.0, "n": 3},
            {"_id": 13, "n": 4},
            {"_id": 14, "k": "a", "n": 5},
        ]
    )
    return db


def test_an_uncorrelated_lookup_gives_every_document_its_own_copy(joined):
    pipeline = [
        {"$lookup": {"from": "inner", "pipeline": [{"$match": {"n": {"$lte": 2}}}], "as": "j"}},
        {"$unwind": "$j"},
        {"$set": {"j.n": {"$add": ["$j.n", "$_id"]}}},
        {"$group": {"_id": "$_id", "ns": {"$push": "$j.n"}}},
        {"$sort": {"_id": 1}},
    ]
    rows = list(joined.outer.aggregate(pipeline))
    assert [row["ns"] for row in rows] == [[1, 2], [2, 3], [3, 4], [4, 5], [5, 6]]


def test_a_leading_match_reads_aware_dates_and_keeps_later_stages(joined):
    now = dt.datetime.now(dt.UTC)
    joined.events.insert_many([{"t": now - dt.timedelta(minutes=m), "m": m} for m in range(10)])
    lookup = {
        "from": "events",
        "pipeline": [
            {"$match": {"t": {"$gte": now - dt.timedelta(minutes=4, seconds=30)}}},
            {"$match": {"$expr": {"$gt": ["$m", 1]}}},
            {"$sort": {"m": 1}},
            {"$project": {"_id": 0, "m": 1}},
        ],
        "as": "recent",
    }
    (row,) = list(joined.outer.aggregate([{"$match": {"_id": 0}}, {"$lookup": lookup}]))
    assert row["recent"] == [{"m": 2}, {"m": 3}, {"m": 4}]


def test_expr_joins_match_as_without_a_hash(joined):
    lookup = {
        "from": "inner",
        "let": {"v": "$v"},
        "pipeline": [
            {"$match": {"$expr": {"$eq": ["$$v", "$k"]}}},
            {"$sort": {"_id": 1}},
            {"$project": {"_id": 0, "n": 1}},
        ],
        "as": "j",
    }
    rows = list(joined.outer.aggregate([{"$lookup": lookup}, {"$sort": {"_id": 1}}]))
    # Strings by hash; numbers equal across types (1 and 1.0); null is not a missing field.
    assert [[j["n"] for j in row["j"]] for row in rows] == [[1, 5], [2, 3], [2, 3], [], []]


def test_constant_parts_fold_without_changing_errors_or_laziness(db):
    db.t.insert_many([{"_id": 1, "x": 5}, {"_id": 2, "x": "s"}])
    lazy = {"$cond": [{"$gt": ["$x", 0]}, 1, {"$divide": [1, 0]}]}
    rows = list(db.t.aggregate([{"$match": {"_id": 1}}, {"$project": {"y": lazy}}]))
    assert rows == [{"_id": 1, "y": 1}]
    recent = {"$dateSubtract": {"startDate": "$$NOW", "unit": "hour", "amount": 1}}
    assert list(
        db.t.aggregate([{"$match": {"$expr": {"$lt": [recent, "$$NOW"]}}}, {"$count": "n"}])
    ) == [{"n": 2}]
    with pytest.raises(OperationFailure):
        list(db.t.aggregate([{"$project": {"y": {"$divide": [1, 0]}}}]))


def test_get_field_without_input_reads_the_document(db):
    db.t.insert_many([{"_id": 1, "a": 5}, {"_id": 2}])
    for get in ({"$getField": "a"}, {"$getField": {"field": "a"}}):
        value = {"$ifNull": [get, 0]}
        rows = list(db.t.aggregate([{"$project": {"v": value}}, {"$sort": {"_id": 1}}]))
        assert rows == [{"_id": 1, "v": 5}, {"_id": 2, "v": 0}]
        matched = list(db.t.aggregate([{"$match": {"$expr": {"$eq": [value, 5]}}}]))
        assert [row["_id"] for row in matched] == [1]
