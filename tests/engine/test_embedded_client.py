"""The client: tz-aware results like pymongo's MongoClient(tz_aware=True), writes, idempotence."""

from __future__ import annotations

import datetime as dt

import mongomock_ng

from queryleaf.engines.embedded import install, new_client

UTC = dt.UTC


def test_new_client_is_a_fresh_mongomock_client():
    first, second = new_client(), new_client()
    assert isinstance(first, mongomock_ng.MongoClient)
    first.db.t.insert_one({"a": 1})
    assert second.db.t.count_documents({}) == 0


def test_install_is_idempotent():
    install()
    install()
    db = new_client().db
    assert list(db.aggregate([{"$documents": [{}]}, {"$count": "n"}])) == [{"n": 1}]


def test_datetimes_come_back_utc_aware_from_find_and_aggregate(db):
    db.t.insert_many(
        [
            {"_id": 1, "d": dt.datetime(2021, 1, 1, tzinfo=UTC)},
            {"_id": 2, "d": dt.datetime(2022, 1, 1)},
        ]
    )
    assert db.t.find_one({"_id": 2})["d"] == dt.datetime(2022, 1, 1, tzinfo=UTC)
    add_day = {"$dateAdd": {"startDate": "$d", "unit": "day", "amount": 1}}
    (row,) = db.t.aggregate([{"$match": {"_id": 1}}, {"$project": {"e": add_day}}])
    assert row["e"] == dt.datetime(2021, 1, 2, tzinfo=UTC) and row["e"].utcoffset() == dt.timedelta(
        0
    )


def test_aware_literals_compare_with_stored_dates(db):
    db.t.insert_many(
        [{"_id": 1, "d": dt.datetime(2021, 1, 1)}, {"_id": 2, "d": dt.datetime(2022, 1, 1)}]
    )
    cutoff = dt.datetime(2021, 6, 1, tzinfo=UTC)
    assert [r["_id"] for r in db.t.aggregate([{"$match": {"$expr": {"$gt": ["$d", cutoff]}}}])] == [
        2
    ]
    assert [r["_id"] for r in db.t.find({"d": {"$gt": cutoff}})] == [2]
