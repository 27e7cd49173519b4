"""Filters on _id alone read the store by key; results are the same as a full scan."""

from __future__ import annotations

import datetime as dt
import re

from bson import ObjectId

from queryleaf.engines.embedded import new_client


def test_id_filters_find_the_same_documents() -> None:
    db = new_client().test
    oid = ObjectId()
    db.t.insert_many([{"_id": 1, "a": 1}, {"_id": "x", "a": 2}, {"_id": oid, "a": 3}, {"_id": 2.5}])
    assert db.t.find_one({"_id": 1}) == {"_id": 1, "a": 1}
    assert db.t.find_one({"_id": 1.0}) == {"_id": 1, "a": 1}  # numbers match by value
    assert db.t.find_one({"_id": "nope"}) is None
    assert [d["_id"] for d in db.t.find({"_id": {"$in": ["x", oid, 7, "x"]}})] == ["x", oid]
    assert db.t.update_many({"_id": {"$in": [1, "x"]}}, {"$set": {"b": 1}}).matched_count == 2
    assert db.t.count_documents({"b": 1}) == 2
    assert db.t.delete_one({"_id": 2.5}).deleted_count == 1


def test_id_filters_still_expire_ttl_documents(monkeypatch) -> None:
    from queryleaf.engines.embedded import fast_paths

    # MongoDB removes expired documents in a periodic pass (every 60 s); run it every read.
    monkeypatch.setattr(fast_paths, "EXPIRY_INTERVAL_SECONDS", 0.0)
    db = new_client().test
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    db.t.create_index("at", expireAfterSeconds=3600)
    db.t.insert_many([{"_id": 1, "at": old}, {"_id": 2, "at": dt.datetime.now(dt.UTC)}])
    assert db.t.find_one({"_id": 1}) is None
    assert db.t.find_one({"_id": 2})["_id"] == 2


def test_datetime_normalisation_is_unchanged() -> None:
    from mongomock_ng import helpers

    from queryleaf.engines.embedded import fast_paths

    aware = dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    value = {"a": [aware, (1, "x")], "b": {"c": None, "d": 1.5}}
    expected = {
        "a": [dt.datetime(2026, 1, 2, 1, 4, 5, 678000), [1, "x"]],
        "b": {"c": None, "d": 1.5},
    }
    assert fast_paths.normalise_datetimes(value) == expected
    assert helpers.patch_datetime_awareness_in_document is fast_paths.normalise_datetimes


def test_database_streams_skip_other_collections_by_name_only() -> None:
    from queryleaf.engines.embedded.change_streams.pipeline import namespace_test

    test = namespace_test([{"$match": {"$or": [{"ns.coll": "a"}, {"ns.coll": {"$in": ["b"]}}]}}])
    assert test is not None and [test(c, None) for c in ("a", "b", "c")] == [True, True, False]
    excluded = namespace_test([{"$match": {"ns.coll": {"$nin": ["log"]}, "x": 1}}])
    assert excluded is not None and (excluded("t", None), excluded("log", None)) == (True, False)
    # A rename's target counts where the $match names it.
    onto = namespace_test([{"$match": {"$or": [{"ns.coll": "a"}, {"to.coll": "a"}]}}])
    assert onto is not None and (onto("b", "a"), onto("b", None), onto("a", None)) == (
        True,
        False,
        True,
    )
    # A branch that may match any collection, or a non-string name: no shortcut.
    assert namespace_test([{"$match": {"$or": [{"ns.coll": "a"}, {"x": 1}]}}]) is None
    assert namespace_test([{"$match": {"ns.coll": {"$regex": "^a"}}}]) is None
    db = new_client().test
    with db.watch([{"$match": {"ns.coll": "a"}}], max_await_time_ms=10) as stream:
        db.b.insert_one({"_id": 1})
        db.a.insert_one({"_id": 2})
        db.a.update_one({"_id": 2}, {"$set": {"v": 1}})
        event = stream.try_next()
        assert (event["ns"]["coll"], event["documentKey"]) == ("a", {"_id": 2})
        update = stream.try_next()
        assert update["updateDescription"] == {
            "updatedFields": {"v": 1}, "removedFields": [], "truncatedArrays": []
        }  # fmt: skip


def test_booleans_and_numbers_are_different_types_in_filters() -> None:
    db = new_client().test
    db.c.insert_many(
        [{"_id": 1, "a": True}, {"_id": 2, "a": 1}, {"_id": 3, "a": False}, {"_id": 4, "a": 0}]
    )

    def ids(query: dict) -> list[int]:
        return [d["_id"] for d in db.c.find(query)]

    assert ids({"a": 1}) == [2] and ids({"a": True}) == [1]
    assert ids({"a": {"$in": [0]}}) == [4] and ids({"a": {"$nin": [1]}}) == [1, 3, 4]
    assert ids({"a": {"$gt": 0}}) == [2] and ids({"a": {"$gte": False}}) == [1, 3]


def test_aggregate_reads_private_copies_of_stored_documents() -> None:
    db = new_client().test
    db.t.insert_one({"_id": 1, "tags": ["a"], "at": dt.datetime(2024, 1, 1, 12, 0, 0, 123456)})
    (row,) = db.t.aggregate([{"$match": {"_id": 1}}])
    row["tags"].append("changed")  # the result is the caller's, not the stored document
    assert db.t.find_one({"_id": 1})["tags"] == ["a"]
    assert row["at"] == dt.datetime(2024, 1, 1, 12, 0, 0, 123000, tzinfo=dt.UTC)
    joined = list(db.u.aggregate([
        {"$documents": [{"k": 1}]},
        {"$lookup": {"from": "t", "localField": "k", "foreignField": "_id", "as": "t"}},
    ]))  # fmt: skip
    joined[0]["t"][0]["tags"].append("changed")
    assert db.t.find_one({"_id": 1})["tags"] == ["a"]


def test_numbers_sort_before_booleans_and_nested_values_keep_their_types() -> None:
    db = new_client().test
    db.c.insert_many([{"_id": 1, "a": True}, {"_id": 2, "a": 1}, {"_id": 3, "a": False},
                      {"_id": 4, "a": 0}, {"_id": 5, "a": 0.5}])  # fmt: skip
    assert [d["_id"] for d in db.c.find().sort("a", 1)] == [4, 5, 2, 3, 1]
    db.n.insert_many([{"_id": 1, "a": [True]}, {"_id": 2, "a": {"x": True}}, {"_id": 3, "a": [5]}])
    assert list(db.n.find({"a": [1]})) == [] and list(db.n.find({"a": {"x": 1}})) == []
    assert [d["_id"] for d in db.n.find({"a": {"$gt": [5]}})] == [1]  # [true] sorts after [5]


def test_id_filters_return_documents_in_id_order() -> None:
    db = new_client().test
    db.t.insert_many([{"_id": 2, "x": 1}, {"_id": 1, "x": 1}, {"_id": 3, "x": 1}])
    assert [d["_id"] for d in db.t.find({"_id": {"$in": [3, 1, 2]}, "x": 1})] == [1, 2, 3]


def test_in_compares_arrays_whole_and_elements_one_by_one() -> None:
    db = new_client().test
    db.c.insert_many([{"_id": 1, "a": 1}, {"_id": 2, "a": [1]}, {"_id": 3, "a": [[1], 2]},
                      {"_id": 4}, {"_id": 5, "a": "x1"}])  # fmt: skip

    def ids(query: dict) -> list[int]:
        return [d["_id"] for d in db.c.find(query)]

    assert ids({"a": {"$in": [[1]]}}) == [2, 3]  # a scalar 1 is not the array [1]
    assert ids({"a": {"$in": [1]}}) == [1, 2]
    assert ids({"a": {"$in": [None]}}) == [4]
    assert ids({"a": {"$nin": [1, None]}}) == [3, 5]
    assert ids({"a": {"$in": [re.compile("^x")]}}) == [5]
