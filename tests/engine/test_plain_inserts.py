"""The embedded engine's direct insert path for plain documents gives what the full path gives.

A collection with a sparse unique index on a field no document has takes the full path (a unique
index other than `_id` can reject a document); a collection without one takes the direct path.
Inserting the same documents into both must store the same documents, raise the same errors and
record the same change events."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from bson import Int64, ObjectId
from pymongo.errors import BulkWriteError

from queryleaf.engines.embedded import new_client
from queryleaf.engines.embedded.plain_inserts import _eligible

PARIS = dt.timezone(dt.timedelta(hours=1))


def _pair() -> tuple[Any, Any, Any]:
    db = new_client()["plain"]
    db.full.create_index("never_present", unique=True, sparse=True)
    db.direct.insert_one({"_id": "warm"})
    db.full.insert_one({"_id": "warm"})
    # Which path each takes (the direct one is not mongomock-ng's).
    assert _eligible(db.direct, None) is not None
    assert _eligible(db.full, None) is None
    return db, db.direct, db.full


def _outcome(call: Any) -> tuple[str, Any]:
    try:
        return "ok", call()
    except BulkWriteError as error:
        details = {
            "nInserted": error.details.get("nInserted"),
            "writeErrors": [(e["index"], e["code"]) for e in error.details["writeErrors"]],
        }
        return type(error).__name__, details
    except Exception as error:
        return type(error).__name__, str(error)


def _documents() -> list[Any]:
    """Documents of every kind the direct path takes, and some it hands to the full path."""
    return [
        {"_id": 1, "a": "x", "n": Int64(5), "f": 1.5, "b": True, "z": None},
        {"_id": "s", "nested": {"deep": {"list": [1, {"k": dt.datetime(2024, 1, 2, 3, 4, 5)}]}}},
        {
            "_id": ObjectId("0123456789abcdef01234567"),
            "when": dt.datetime(2024, 5, 6, 7, 8, 9, 123456),
        },
        {"_id": 2, "when": dt.datetime(2024, 5, 6, 7, 8, 9, 987654, tzinfo=PARIS)},
        {"_id": 3, "utc": dt.datetime(2024, 5, 6, 7, 8, 9, 5, tzinfo=dt.UTC), "raw": b"\x00\x01"},
        {"_id": {"compound": 1}, "a": 1},  # a document _id: the full path
        {"nested": {"bad\0key": 1}},  # NUL in a field name
        {"$top": 1},  # a top-level $ field
        {"big": 2**70},  # not BSON-encodable
        {"nested": {1: "x"}},  # a field name that is not a string
        {"_id": 4, "text": "naïve ☃", "clé": "ü", "max": 2**63 - 1, "min": -(2**63)},
        {"s": "\ud800"},  # a lone surrogate: not UTF-8
        {"nested": {"k\udfff": 1}},  # the same in a field name
        {"deep": {"big": -(2**63) - 1}},  # just past 64 bits, nested
        {"list": [1, 2**64]},  # inside an array
        {"_id": 5, "list": ["x", {"y": "é"}], "n": Int64(7)},
    ]


def _stored(collection: Any) -> list[dict[str, Any]]:
    return [d for d in collection.find({"_id": {"$ne": "warm"}}, sort=[("_id", 1)])]


def test_single_inserts_store_and_refuse_what_the_full_path_does() -> None:
    _, direct, full = _pair()
    outcomes = []
    for document in _documents():
        # Each gets its own copy: inserting fills in a missing _id.
        one = _outcome(lambda d=dict(document): direct.insert_one(d).inserted_id)
        other = _outcome(lambda d=dict(document): full.insert_one(d).inserted_id)
        assert one[0] == other[0], document
        outcomes.append(one[0])
        if one[0] == "ok" and not isinstance(one[1], ObjectId):
            assert one == other
    assert outcomes.count("ok") == 8 and len(set(outcomes)) >= 4  # refused in different ways
    strip = [
        {k: v for k, v in d.items() if not isinstance(v, ObjectId) or k != "_id"}
        for d in _stored(direct)
    ]
    expected = [
        {k: v for k, v in d.items() if not isinstance(v, ObjectId) or k != "_id"}
        for d in _stored(full)
    ]
    assert strip == expected
    # Datetimes are stored as BSON dates: UTC, milliseconds.
    assert direct.find_one({"_id": 2})["when"] == dt.datetime(
        2024, 5, 6, 6, 8, 9, 987000, tzinfo=dt.UTC
    )
    assert direct.find_one({"_id": 3})["utc"] == dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC)


@pytest.mark.parametrize("ordered", [True, False])
def test_insert_many_reports_duplicates_as_the_full_path_does(ordered: bool) -> None:
    _, direct, full = _pair()

    def batch() -> list[dict[str, Any]]:
        return [{"_id": 10}, {"_id": 11}, {"_id": 10}, {"x": 1}, {"_id": "warm"}, {"_id": 12}]

    one = _outcome(lambda: direct.insert_many(batch(), ordered=ordered))
    other = _outcome(lambda: full.insert_many(batch(), ordered=ordered))
    assert one == other
    assert one[0] == "BulkWriteError"
    inserted = 2 if ordered else 4
    assert one[1]["nInserted"] == inserted
    assert one[1]["writeErrors"] == ([(2, 11000)] if ordered else [(2, 11000), (4, 11000)])
    assert direct.count_documents({}) == full.count_documents({}) == 1 + inserted


def test_the_caller_gets_ids_and_keeps_its_own_documents() -> None:
    _, direct, _ = _pair()
    documents = [{"a": 1}, {"a": 2, "inner": {"b": [1, 2]}}]
    ids = direct.insert_many(documents).inserted_ids
    assert [d["_id"] for d in documents] == ids
    assert all(isinstance(i, ObjectId) for i in ids)
    documents[1]["inner"]["b"].append(3)  # changing the caller's copy changes nothing stored
    documents[0]["a"] = 99
    assert direct.find_one({"_id": ids[0]})["a"] == 1
    assert direct.find_one({"_id": ids[1]})["inner"] == {"b": [1, 2]}


def test_change_events_follow_the_insert_order_across_both_paths() -> None:
    _, direct, _ = _pair()
    with direct.watch(max_await_time_ms=50) as stream:
        # The middle document has a document _id: it takes the full path between the others.
        direct.insert_many([{"_id": 20, "v": 1}, {"_id": {"k": 1}, "v": 2}, {"_id": 21, "v": 3}])
        direct.insert_one({"_id": 22, "v": 4})
        events = [stream.try_next() for _ in range(4)]
        stored = direct.find_one({"_id": 20})
        stored_before = dict(stored)
        direct.update_one({"_id": 20}, {"$set": {"v": 100}})
        update = stream.try_next()
    assert [e["operationType"] for e in events] == ["insert"] * 4
    assert [e["documentKey"]["_id"] for e in events] == [20, {"k": 1}, 21, 22]
    assert [e["fullDocument"]["v"] for e in events] == [1, 2, 3, 4]
    # The journal keeps its own copy: the later update did not change the recorded insert.
    assert events[0]["fullDocument"] == stored_before
    assert update["updateDescription"]["updatedFields"] == {"v": 100}
    tokens = [e["_id"]["_data"] for e in events]
    assert tokens == sorted(tokens)


def test_a_failed_ordered_batch_publishes_what_it_inserted() -> None:
    _, direct, _ = _pair()
    with direct.watch(max_await_time_ms=50) as stream:
        with pytest.raises(BulkWriteError):
            direct.insert_many([{"_id": 30}, {"_id": "warm"}, {"_id": 31}])
        first = stream.try_next()
        assert stream.try_next() is None
    assert first["documentKey"] == {"_id": 30}


def test_update_snapshots_clone_as_mongomock_does() -> None:
    from collections import OrderedDict

    from bson import Decimal128, Timestamp
    from mongomock_ng import helpers

    from queryleaf.engines.embedded.write_checks import clone_document

    values: list[Any] = [
        {"a": [1, {"b": (2, 3)}, {4, 5}], "c": OrderedDict(x=1), "d": Decimal128("1.5")},
        [dt.datetime(2024, 1, 1), ObjectId(), Int64(3), None, True, b"x", Timestamp(1, 2)],
        {"nested": {"deep": [[1, 2], {"e": "f"}]}},
        (1, [2]),
    ]
    for value in values:
        ours, theirs = clone_document(value), helpers._clone_document(value)
        assert ours == theirs
        assert type(ours) is type(theirs)
        if isinstance(value, dict):
            assert (
                ours is not value
                and ours["a" if "a" in value else "nested"]
                is not (value["a" if "a" in value else "nested"])
            )
