"""Views and DDL commands in the embedded engine: every assertion is what MongoDB 6.0 documents
(or answers) for the same command."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pymongo.errors import BulkWriteError, CollectionInvalid, OperationFailure, WriteError

UTC = dt.UTC


@pytest.fixture
def shop(db: Any) -> Any:
    db.t.insert_many(
        [
            {"_id": 1, "g": "a", "n": 5, "at": dt.datetime(2024, 1, 1, tzinfo=UTC)},
            {"_id": 2, "g": "b", "n": 7},
            {"_id": 3, "g": "a", "n": 9},
        ]
    )
    db.command({"create": "v", "viewOn": "t", "pipeline": [{"$match": {"g": "a"}}]})
    return db


def failure(run: Any) -> OperationFailure:
    with pytest.raises(OperationFailure) as caught:
        run()
    return caught.value


# -- reading --------------------------------------------------------------------------------


def test_find_on_a_view_runs_its_pipeline_first(shop: Any) -> None:
    assert [d["_id"] for d in shop.v.find()] == [1, 3]
    assert list(shop.v.find({"n": {"$gt": 6}}, {"_id": 0, "n": 1})) == [{"n": 9}]
    assert [d["_id"] for d in shop.v.find(sort=[("n", -1)], limit=1)] == [3]
    assert shop.v.find_one({"_id": 1})["at"] == dt.datetime(2024, 1, 1, tzinfo=UTC)


def test_aggregate_count_and_distinct_on_a_view(shop: Any) -> None:
    total = list(shop.v.aggregate([{"$group": {"_id": None, "s": {"$sum": "$n"}}}]))
    assert total == [{"_id": None, "s": 14}]
    assert shop.v.count_documents({}) == 2
    assert shop.v.count_documents({"n": 9}) == 1
    assert shop.v.estimated_document_count() == 2
    assert shop.v.distinct("g") == ["a"]


def test_views_on_views_and_lookup_from_a_view(shop: Any) -> None:
    shop.command(
        {"create": "vv", "viewOn": "v", "pipeline": [{"$project": {"m": {"$add": ["$n", 1]}}}]}
    )
    assert list(shop.vv.find()) == [{"_id": 1, "m": 6}, {"_id": 3, "m": 10}]
    joined = shop.t.aggregate(
        [
            {"$lookup": {"from": "vv", "localField": "_id", "foreignField": "_id", "as": "j"}},
            {"$project": {"m": "$j.m"}},
        ]
    )
    assert list(joined) == [{"_id": 1, "m": [6]}, {"_id": 2, "m": []}, {"_id": 3, "m": [10]}]


def test_a_view_on_a_missing_collection_is_empty(db: Any) -> None:
    db.command({"create": "ghost", "viewOn": "nothing", "pipeline": []})
    assert list(db.ghost.find()) == []
    db.command({"create": "plain", "viewOn": "nothing"})  # pipeline defaults to []
    assert db.plain.count_documents({}) == 0


def test_a_view_follows_its_source(shop: Any) -> None:
    shop.t.insert_one({"_id": 4, "g": "a", "n": 1})
    assert shop.v.count_documents({}) == 3
    shop.t.drop()
    assert list(shop.v.find()) == []


# -- listing --------------------------------------------------------------------------------


def test_list_collections_reports_views(shop: Any) -> None:
    entries = {e["name"]: e for e in shop.list_collections()}
    assert entries["v"] == {
        "name": "v",
        "type": "view",
        "options": {"viewOn": "t", "pipeline": [{"$match": {"g": "a"}}]},
        "info": {"readOnly": True},
    }
    assert entries["t"]["type"] == "collection"
    assert entries["t"]["info"] == {"readOnly": False}
    assert sorted(shop.list_collection_names()) == ["t", "v"]
    assert [e["name"] for e in shop.list_collections(filter={"type": "view"})] == ["v"]
    assert list(shop.list_collections(filter={"name": "v"}, nameOnly=True)) == [
        {"name": "v", "type": "view"}
    ]


def test_list_collections_shows_collection_options(db: Any) -> None:
    db.command({"create": "checked", "validator": {"n": {"$gte": 0}}})
    (entry,) = db.list_collections(filter={"name": "checked"})
    assert entry["options"]["validator"] == {"n": {"$gte": 0}}


def test_names_only_looked_up_are_not_listed(db: Any) -> None:
    db.nowhere.find_one()
    assert db.list_collection_names(filter={"name": "nowhere"}) == []
    assert list(db.list_collections(filter={"name": "nowhere"})) == []


def test_list_collections_command_reply(shop: Any) -> None:
    reply = shop.command({"listCollections": 1, "filter": {"name": "v"}})
    assert reply["ok"] == 1.0
    assert reply["cursor"]["id"] == 0
    assert [e["type"] for e in reply["cursor"]["firstBatch"]] == ["view"]


# -- writes are refused ---------------------------------------------------------------------


def test_inserts_updates_and_deletes_on_a_view_fail_with_code_166(shop: Any) -> None:
    message = "Namespace enginetest.v is a view, not a collection"
    with pytest.raises(WriteError) as caught:
        shop.v.insert_one({"x": 1})
    assert caught.value.code == 166 and caught.value.details["errmsg"] == message
    with pytest.raises(BulkWriteError) as bulk:
        shop.v.insert_many([{"x": 1}, {"x": 2}])
    assert [e["code"] for e in bulk.value.details["writeErrors"]] == [166]
    assert bulk.value.details["writeErrors"][0]["errmsg"] == message
    assert bulk.value.details["nInserted"] == 0
    with pytest.raises(BulkWriteError) as unordered:
        shop.v.insert_many([{"x": 1}, {"x": 2}], ordered=False)
    assert [e["index"] for e in unordered.value.details["writeErrors"]] == [0, 1]
    for write in (
        lambda: shop.v.update_many({}, {"$set": {"x": 1}}),
        lambda: shop.v.replace_one({"_id": 1}, {"x": 1}),
        lambda: shop.v.delete_many({}),
    ):
        with pytest.raises(WriteError) as caught:
            write()
        assert caught.value.code == 166
    assert failure(lambda: shop.v.find_one_and_update({}, {"$set": {"x": 1}})).code == 166
    assert shop.t.count_documents({"x": {"$exists": True}}) == 0
    assert shop.t.count_documents({}) == 3


def test_index_commands_on_a_view_fail_with_code_166(shop: Any) -> None:
    assert failure(lambda: shop.v.create_index("n")).code == 166
    assert failure(lambda: list(shop.v.list_indexes())).code == 166
    assert failure(lambda: shop.v.drop_index("n_1")).code == 166
    command = {"createIndexes": "v", "indexes": [{"key": {"n": 1}, "name": "n_1"}]}
    error = failure(lambda: shop.command(command))
    assert error.code == 166
    assert str(error).startswith("Namespace enginetest.v is a view, not a collection")
    assert failure(lambda: shop.v.rename("w")).code == 166


# -- create, collMod, drop ------------------------------------------------------------------


def test_create_view_helpers_and_name_conflicts(shop: Any) -> None:
    shop.create_collection("w", viewOn="t", pipeline=[{"$match": {"g": "b"}}])
    assert [d["_id"] for d in shop.w.find()] == [2]
    with pytest.raises(CollectionInvalid):
        shop.create_collection("w", viewOn="t", pipeline=[])
    with pytest.raises(CollectionInvalid):
        shop.create_collection("v")
    error = failure(lambda: shop.command({"create": "t", "viewOn": "v", "pipeline": []}))
    assert error.code == 48 and "enginetest.t" in str(error)
    assert failure(lambda: shop.command({"create": "v"})).code == 48


def test_invalid_view_definitions(db: Any) -> None:
    bad = [
        ({"create": "x", "pipeline": []}, 72),
        ({"create": "x", "viewOn": 3}, 72),
        ({"create": "x", "viewOn": "t", "pipeline": {"$match": {}}}, 72),
        ({"create": "x", "viewOn": "t", "pipeline": [{"$out": "y"}]}, 157),
        ({"create": "x", "viewOn": "t", "pipeline": [{"$facet": {"a": [{"$merge": "y"}]}}]}, 157),
        ({"create": "system.x", "viewOn": "t"}, 73),
        ({"create": "x", "viewOn": "t", "validator": {}}, 72),
    ]
    for command, code in bad:
        assert failure(lambda command=command: db.command(command)).code == code, command
    assert db.list_collection_names() == []


def test_view_cycles_and_depth_are_refused(db: Any) -> None:
    error = failure(lambda: db.command({"create": "a", "viewOn": "a"}))
    assert error.code == 93
    assert str(error).startswith("View cycle detected: enginetest.a => enginetest.a")
    db.command({"create": "a", "viewOn": "b"})
    db.command({"create": "b", "viewOn": "t"})
    error = failure(lambda: db.command({"collMod": "b", "viewOn": "a", "pipeline": []}))
    assert error.code == 93
    looked_up = [{"$lookup": {"from": "a", "pipeline": [], "as": "x"}}]
    assert (
        failure(lambda: db.command({"collMod": "b", "viewOn": "t", "pipeline": looked_up})).code
        == 93
    )
    for level in range(20):
        db.command({"create": f"d{level + 1}", "viewOn": f"d{level}"})
    assert failure(lambda: db.command({"create": "d21", "viewOn": "d20"})).code == 149


def test_collmod_changes_a_view(shop: Any) -> None:
    reply = shop.command({"collMod": "v", "viewOn": "t", "pipeline": [{"$match": {"g": "b"}}]})
    assert reply == {"ok": 1.0}
    assert [d["_id"] for d in shop.v.find()] == [2]
    assert failure(lambda: shop.command({"collMod": "v", "validator": {}})).code == 72
    assert failure(lambda: shop.command({"collMod": "t", "viewOn": "v"})).code == 72
    assert failure(lambda: shop.command({"collMod": "t", "pipeline": []})).code == 72
    assert failure(lambda: shop.command({"collMod": "nothing", "viewOn": "t"})).code == 26
    shop.command({"collMod": "t", "validator": {"n": {"$type": "int"}}})
    (entry,) = shop.list_collections(filter={"name": "t"})
    assert entry["options"]["validator"] == {"n": {"$type": "int"}}


def test_drop_removes_a_view_not_its_source(shop: Any) -> None:
    reply = shop.command({"drop": "v"})
    assert reply["ok"] == 1.0 and reply["ns"] == "enginetest.v"
    assert shop.list_collection_names() == ["t"]
    assert shop.t.count_documents({}) == 3
    shop.command({"create": "v", "viewOn": "t", "pipeline": []})
    shop.v.drop()
    assert shop.list_collection_names() == ["t"]
    # The name is free again, for a collection this time.
    shop.v.insert_one({"_id": 1})
    assert shop.v.count_documents({}) == 1


def test_drop_command(shop: Any) -> None:
    shop.t.create_index("n")
    assert shop.command({"drop": "t"}) == {"nIndexesWas": 2, "ns": "enginetest.t", "ok": 1.0}
    error = failure(lambda: shop.command({"drop": "t"}))
    assert error.code == 26 and "ns not found" in str(error)


def test_a_dropped_collection_forgets_its_validator(db: Any) -> None:
    db.command({"create": "c", "validator": {"n": {"$gt": 0}}})
    db.c.drop()
    db.c.insert_one({"n": -1})
    assert db.c.count_documents({}) == 1


def test_create_command_for_collections(db: Any) -> None:
    assert db.command({"create": "c", "validator": {"n": {"$gt": 0}}}) == {"ok": 1.0}
    with pytest.raises(WriteError) as caught:
        db.c.insert_one({"n": 0})
    assert caught.value.code == 121
    error = failure(lambda: db.command({"create": "c"}))
    assert error.code == 48 and str(error).startswith("Collection already exists. NS: enginetest.c")


# -- indexes --------------------------------------------------------------------------------


def test_create_indexes_command(db: Any) -> None:
    spec = {"key": {"a": 1, "b.c": -1}, "name": "ab", "unique": True}
    reply = db.command({"createIndexes": "c", "indexes": [spec]})
    assert reply == {
        "numIndexesBefore": 1,
        "numIndexesAfter": 2,
        "createdCollectionAutomatically": True,
        "ok": 1.0,
    }
    again = db.command({"createIndexes": "c", "indexes": [spec]})
    assert again["note"] == "all indexes already exist"
    assert again["numIndexesAfter"] == 2
    same_name = {"key": {"a": 1}, "name": "ab"}
    assert failure(lambda: db.command({"createIndexes": "c", "indexes": [same_name]})).code == 86
    same_key = {"key": {"a": 1, "b.c": -1}, "name": "other", "unique": True}
    assert failure(lambda: db.command({"createIndexes": "c", "indexes": [same_key]})).code == 85
    ttl = {"key": {"at": 1}, "name": "ttl", "expireAfterSeconds": 60, "hidden": True}
    db.command({"createIndexes": "c", "indexes": [ttl]})
    listed = db.command({"listIndexes": "c"})["cursor"]["firstBatch"]
    assert [(i["name"], i["key"]) for i in listed] == [
        ("_id_", {"_id": 1}),
        ("ab", {"a": 1, "b.c": -1}),
        ("ttl", {"at": 1}),
    ]
    assert listed[1]["unique"] is True
    assert listed[2]["expireAfterSeconds"] == 60 and listed[2]["hidden"] is True
    with pytest.raises(BulkWriteError) as caught:
        db.c.insert_many([{"a": 1, "b": {"c": 1}}, {"a": 1, "b": {"c": 1}}])
    assert [e["code"] for e in caught.value.details["writeErrors"]] == [11000]


def test_create_indexes_creates_the_collection_for_good(db: Any) -> None:
    db.command({"createIndexes": "c", "indexes": [{"key": {"a": 1}, "name": "a_1"}]})
    db.command({"dropIndexes": "c", "index": "a_1"})
    assert db.list_collection_names() == ["c"]


def test_drop_indexes_command(db: Any) -> None:
    db.c.create_index("a", name="a_1")
    db.c.create_index("b", name="b_1")
    assert db.command({"dropIndexes": "c", "index": "a_1"}) == {"nIndexesWas": 3, "ok": 1.0}
    assert db.command({"dropIndexes": "c", "index": {"b": 1}})["nIndexesWas"] == 2
    error = failure(lambda: db.command({"dropIndexes": "c", "index": "a_1"}))
    assert error.code == 27 and "index not found with name [a_1]" in str(error)
    error = failure(lambda: db.command({"dropIndexes": "c", "index": "_id_"}))
    assert error.code == 72 and "cannot drop _id index" in str(error)
    assert failure(lambda: db.command({"dropIndexes": "nothing", "index": "x"})).code == 26
    assert failure(lambda: db.command({"listIndexes": "nothing"})).code == 26


def test_commands_leave_their_argument_alone(shop: Any) -> None:
    command = {"collMod": "v", "viewOn": "t", "pipeline": []}
    shop.command(command)
    assert command == {"collMod": "v", "viewOn": "t", "pipeline": []}
    assert shop.command("ping") == {"ok": 1.0}
