"""Resuming change streams (resume_after, start_after, start_at_operation_time, the resume_token
property), invalidate tokens, lost history, and transactions, as MongoDB 6.0+ documents them."""

from __future__ import annotations

from typing import Any

import pytest
from bson import Timestamp
from change_stream_support import AWAIT_MS, drain, kinds
from pymongo.errors import OperationFailure

from queryleaf.engines.embedded import new_client
from queryleaf.engines.embedded.change_streams import configure_journal


@pytest.fixture
def client() -> Any:
    return new_client()


@pytest.fixture
def coll(client: Any) -> Any:
    return client.csdb.items


def keys(events: list[dict]) -> list[Any]:
    return [e["documentKey"]["_id"] for e in events]


def write_five(coll: Any) -> list[dict]:
    """Insert _id 0..4 and return their events."""
    stream = coll.watch(max_await_time_ms=AWAIT_MS)
    for key in range(5):
        coll.insert_one({"_id": key})
    events = drain(stream, 5)
    stream.close()
    return events


@pytest.mark.parametrize("option", ["resume_after", "start_after"])
def test_resuming_after_an_event_delivers_exactly_the_later_ones(coll, option):
    events = write_five(coll)
    with coll.watch(max_await_time_ms=AWAIT_MS, **{option: events[1]["_id"]}) as stream:
        assert keys(drain(stream, 3)) == [2, 3, 4]
        assert drain(stream) == []
        coll.insert_one({"_id": 5})
        assert keys(drain(stream, 1)) == [5]


def test_start_at_operation_time_includes_that_time(coll):
    events = write_five(coll)
    with coll.watch(
        start_at_operation_time=events[2]["clusterTime"], max_await_time_ms=AWAIT_MS
    ) as stream:
        assert keys(drain(stream, 3)) == [2, 3, 4]


def test_start_at_a_future_operation_time_skips_what_comes_before(coll):
    events = write_five(coll)
    later = events[-1]["clusterTime"]
    future = Timestamp(later.time + 3600, 0)
    with coll.watch(start_at_operation_time=future, max_await_time_ms=AWAIT_MS) as stream:
        coll.insert_one({"_id": "now"})
        assert drain(stream) == []


def test_resume_token_follows_the_events_and_the_idle_stream(coll):
    stream = coll.watch(max_await_time_ms=AWAIT_MS)
    idle_token = stream.resume_token
    assert idle_token is not None and set(idle_token) == {"_data"}
    coll.insert_one({"_id": 1})
    (event,) = drain(stream, 1)
    assert stream.resume_token == event["_id"]
    # Writes the stream does not show still move its position on: resuming from the token an
    # idle stream reports skips them.
    coll.database.elsewhere.insert_one({})
    coll.insert_one({"_id": 2})
    coll.delete_one({"_id": 2})
    stream_filtered = coll.watch(
        [{"$match": {"operationType": "insert"}}],
        resume_after=event["_id"],
        max_await_time_ms=AWAIT_MS,
    )
    assert keys(drain(stream_filtered, 1)) == [2]
    assert drain(stream_filtered) == []
    token = stream_filtered.resume_token
    assert token["_data"] > event["_id"]["_data"]
    coll.insert_one({"_id": 3})
    with coll.watch(resume_after=token, max_await_time_ms=AWAIT_MS) as resumed:
        assert kinds(drain(resumed, 1)) == ["insert"] and drain(resumed) == []


def test_resume_token_of_a_new_stream_resumes_from_its_start(coll):
    coll.insert_one({"_id": 0})
    token = coll.watch().resume_token
    coll.insert_one({"_id": 1})
    with coll.watch(resume_after=token, max_await_time_ms=AWAIT_MS) as stream:
        assert keys(drain(stream, 1)) == [1]


def test_invalidate_tokens(coll):
    coll.insert_one({"_id": 0})
    stream = coll.watch(max_await_time_ms=AWAIT_MS)
    coll.insert_one({"_id": 1})
    coll.drop()
    inserted, dropped, invalidate = drain(stream, 3)
    assert kinds([inserted, dropped, invalidate]) == ["insert", "drop", "invalidate"]
    assert stream.resume_token == invalidate["_id"]
    coll.insert_one({"_id": "recreated"})

    with pytest.raises(OperationFailure) as failure:
        coll.watch(resume_after=invalidate["_id"])
    assert failure.value.code == 260  # InvalidResumeToken
    with coll.watch(start_after=invalidate["_id"], max_await_time_ms=AWAIT_MS) as after:
        assert keys(drain(after, 1)) == ["recreated"]
    # Resuming after the drop itself gives its invalidate again.
    for option in ("resume_after", "start_after"):
        with coll.watch(max_await_time_ms=AWAIT_MS, **{option: dropped["_id"]}) as again:
            assert kinds(drain(again, 1)) == ["invalidate"]
            assert not again.alive
    # Resuming before the drop replays it.
    with coll.watch(resume_after=inserted["_id"], max_await_time_ms=AWAIT_MS) as replay:
        assert kinds(drain(replay, 2)) == ["drop", "invalidate"]


def test_filtered_out_invalidate_still_ends_the_stream(coll):
    coll.insert_one({"_id": 0})
    stream = coll.watch([{"$match": {"operationType": "insert"}}], max_await_time_ms=AWAIT_MS)
    coll.drop()
    assert drain(stream) == []
    assert not stream.alive
    coll.insert_one({"_id": 1})
    with coll.watch(start_after=stream.resume_token, max_await_time_ms=AWAIT_MS) as after:
        assert keys(drain(after, 1)) == [1]


def test_lost_history(client, coll):
    configure_journal(client, history_size=4)  # emulator setting: the oplog window
    events = write_five(coll)
    for key in range(5, 20):
        coll.insert_one({"_id": key})
    with pytest.raises(OperationFailure) as failure:
        coll.watch(resume_after=events[0]["_id"])
    assert failure.value.code == 286  # ChangeStreamHistoryLost
    with pytest.raises(OperationFailure) as failure:
        coll.watch(start_at_operation_time=events[0]["clusterTime"])
    assert failure.value.code == 286
    # A recent position is still there.
    with coll.watch(start_at_operation_time=Timestamp(2**31 - 1, 0)) as stream:
        assert stream.alive


def test_a_stream_falling_out_of_the_window_fails(client, coll):
    configure_journal(client, history_size=4)
    stream = coll.watch(max_await_time_ms=AWAIT_MS)
    for key in range(20):
        coll.insert_one({"_id": key})
    with pytest.raises(OperationFailure) as failure:
        stream.try_next()
    assert failure.value.code == 286
    assert not stream.alive


@pytest.mark.parametrize("token", [{"_data": "not a token"}, {"data": "x"}, {"_data": 12}])
def test_malformed_tokens_are_refused(coll, token):
    with pytest.raises(OperationFailure):
        coll.watch(resume_after=token)


# --- transactions ---------------------------------------------------------------------------


def test_committed_transaction_events_share_a_cluster_time(client, coll):
    coll.insert_one({"_id": 0})
    stream = client.csdb.watch(max_await_time_ms=AWAIT_MS)
    with client.start_session() as session:
        with session.start_transaction():
            coll.insert_one({"_id": 1}, session=session)
            coll.update_one({"_id": 0}, {"$set": {"n": 1}}, session=session)
            client.csdb.other.delete_many({}, session=session)
            client.csdb.other.insert_one({"_id": "o"}, session=session)
            assert drain(stream) == []  # nothing before the commit
        events = drain(stream, 3)
    assert kinds(events) == ["insert", "update", "insert"]
    assert len({e["clusterTime"] for e in events}) == 1
    assert len({e["_id"]["_data"] for e in events}) == 3
    assert all(e["lsid"] == events[0]["lsid"] and "txnNumber" in e for e in events)
    coll.insert_one({"_id": 2})
    (after,) = drain(stream, 1)
    assert after["clusterTime"] > events[0]["clusterTime"] and "lsid" not in after


def test_aborted_transaction_emits_nothing(client, coll):
    stream = coll.watch(max_await_time_ms=AWAIT_MS)
    with client.start_session() as session:
        session.start_transaction()
        coll.insert_one({"_id": 1}, session=session)
        session.abort_transaction()
        with pytest.raises(RuntimeError), session.start_transaction():
            coll.insert_one({"_id": 2}, session=session)
            raise RuntimeError("abort")
    coll.insert_one({"_id": 3})
    assert keys(drain(stream, 1)) == [3]
    assert drain(stream) == []


def test_with_transaction(client, coll):
    stream = coll.watch(max_await_time_ms=AWAIT_MS)
    with client.start_session() as session:
        session.with_transaction(lambda s: coll.insert_many([{"_id": 1}, {"_id": 2}], session=s))
    assert keys(drain(stream, 2)) == [1, 2]


def test_unrecorded_unwatched_writes_count_as_lost_history(client, coll):
    configure_journal(client, record_unwatched=False)  # emulator setting
    stream = coll.watch(max_await_time_ms=AWAIT_MS)
    coll.insert_one({"_id": 1})
    (event,) = drain(stream, 1)
    stream.close()
    coll.insert_one({"_id": 2})  # nobody watches: not recorded
    with pytest.raises(OperationFailure) as failure:
        coll.watch(resume_after=event["_id"])
    assert failure.value.code == 286
    with pytest.raises(OperationFailure):
        coll.watch(start_at_operation_time=event["clusterTime"])
    with coll.watch(max_await_time_ms=AWAIT_MS) as fresh:
        coll.insert_one({"_id": 3})
        coll.update_one({"_id": 3}, {"$set": {"n": 1}})
        assert kinds(drain(fresh, 2)) == ["insert", "update"]
