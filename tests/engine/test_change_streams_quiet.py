"""queryleaf's bookkeeping collections (the event log, subscriptions, dead letters, ...) are
recorded in full by default, as MongoDB's oplog records them: a stream resuming across their
writes replays them. With `record_bookkeeping=False` they are recorded only while a stream
could see them; a stream that resumes from before an unrecorded write it would have seen then
fails with ChangeStreamHistoryLost (code 286), never misses it silently. Other collections are
unaffected."""

from __future__ import annotations

from typing import Any

import pytest
from change_stream_support import AWAIT_MS, drain, kinds
from pymongo.errors import OperationFailure

from queryleaf.engines.embedded import new_client
from queryleaf.engines.embedded.change_streams.install import configure_journal
from queryleaf.system_collections import EVENT_LOG, SUBSCRIPTIONS, SYSTEM_COLLECTIONS

LEAVE_OUT = [{"$match": {"ns.coll": {"$nin": SYSTEM_COLLECTIONS}}}]


@pytest.fixture
def db() -> Any:
    client = new_client()
    configure_journal(client, record_bookkeeping=False)
    return client.quietdb


def test_by_default_a_resume_replays_bookkeeping_writes() -> None:
    # A subscription on the event log, paused while the runtime's own (filtered) stream ran,
    # resumes and sees every write, as on MongoDB.
    db = new_client().fulldb
    stream = db.watch(LEAVE_OUT, max_await_time_ms=AWAIT_MS)
    db.orders.insert_one({"_id": 1})
    token = drain(stream, 1)[0]["_id"]
    stream.close()
    db[EVENT_LOG].insert_one({"_id": 1})
    db.orders.insert_one({"_id": 2})
    everything = db.watch(resume_after=token, max_await_time_ms=AWAIT_MS)
    events = drain(everything, 2)
    assert [(e["ns"]["coll"], e["documentKey"]["_id"]) for e in events] == [
        (EVENT_LOG, 1),
        ("orders", 2),
    ]
    everything.close()


def test_a_stream_on_the_event_log_sees_every_write(db: Any) -> None:
    stream = db[EVENT_LOG].watch(max_await_time_ms=AWAIT_MS)
    db[EVENT_LOG].insert_one({"_id": 1, "status": "queued"})
    db[EVENT_LOG].update_one({"_id": 1}, {"$set": {"status": "completed"}})
    db[EVENT_LOG].delete_one({"_id": 1})
    assert kinds(drain(stream, 3)) == ["insert", "update", "delete"]
    stream.close()


def test_a_database_stream_without_a_filter_sees_them(db: Any) -> None:
    stream = db.watch(max_await_time_ms=AWAIT_MS)
    db[SUBSCRIPTIONS].insert_one({"_id": "s"})
    db.orders.insert_one({"_id": 1})
    events = drain(stream, 2)
    assert [e["ns"]["coll"] for e in events] == [SUBSCRIPTIONS, "orders"]
    stream.close()


def test_resuming_over_an_unrecorded_write_it_would_see_is_history_lost(db: Any) -> None:
    stream = db.watch(LEAVE_OUT, max_await_time_ms=AWAIT_MS)
    db.orders.insert_one({"_id": 1})
    token = drain(stream, 1)[0]["_id"]
    stream.close()
    db[EVENT_LOG].insert_one({"_id": 1})  # no open stream could see it: not recorded
    db.orders.insert_one({"_id": 2})
    # A stream that leaves the bookkeeping collections out resumes and misses nothing.
    resumed = db.watch(LEAVE_OUT, resume_after=token, max_await_time_ms=AWAIT_MS)
    assert [e["documentKey"]["_id"] for e in drain(resumed, 1)] == [2]
    resumed.close()
    # One that would have seen the event-log write says so instead of skipping it.
    with pytest.raises(OperationFailure) as lost:
        everything = db.watch(resume_after=token, max_await_time_ms=AWAIT_MS)
        drain(everything, 2)
    assert lost.value.code == 286


def test_a_stream_opened_after_an_unrecorded_write_starts_cleanly(db: Any) -> None:
    db[EVENT_LOG].insert_one({"_id": 1})
    stream = db.watch(max_await_time_ms=AWAIT_MS)
    db[EVENT_LOG].insert_one({"_id": 2})
    assert [e["documentKey"]["_id"] for e in drain(stream, 1)] == [2]
    stream.close()


def test_other_collections_are_always_recorded(db: Any) -> None:
    stream = db.watch(LEAVE_OUT, max_await_time_ms=AWAIT_MS)
    db.orders.insert_one({"_id": 1})
    token = drain(stream, 1)[0]["_id"]
    stream.close()
    db.orders.insert_one({"_id": 2})  # no stream open: still recorded
    resumed = db.orders.watch(resume_after=token, max_await_time_ms=AWAIT_MS)
    assert [e["documentKey"]["_id"] for e in drain(resumed, 1)] == [2]
    resumed.close()
