"""Filters on _id alone read the store by key; results are the same as a full scan."""

from __future__ import annotations

import datetime as dt

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
