"""Change streams across threads: writes in one thread reach watchers blocked in others, without
polling, and every wait is bounded (a failing test fails, it does not hang)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from change_stream_support import AWAIT_MS, DEADLINE

from queryleaf.engines.embedded import new_client

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def coll() -> Any:
    return new_client().csdb.items


def run(target: Any) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_next_blocks_until_another_thread_writes(coll):
    stream = coll.watch()
    received: list[dict] = []
    reader = run(lambda: received.append(next(stream)))
    time.sleep(0.05)
    assert not received  # still waiting
    started = time.monotonic()
    coll.insert_one({"_id": 1})
    reader.join(DEADLINE)
    assert not reader.is_alive()
    assert received[0]["documentKey"] == {"_id": 1}
    assert time.monotonic() - started < 1.0  # woken by the write, not by a poll interval
    stream.close()


def test_try_next_waits_at_most_max_await_time(coll):
    stream = coll.watch(max_await_time_ms=150)
    started = time.monotonic()
    assert stream.try_next() is None
    assert 0.1 <= time.monotonic() - started < 2.0
    run(lambda: (time.sleep(0.05), coll.insert_one({"_id": 1})))
    started = time.monotonic()
    event = stream.try_next()
    assert event is not None and event["documentKey"] == {"_id": 1}
    assert time.monotonic() - started < 0.15 + 1.0


def test_close_from_another_thread_ends_a_blocked_next(coll):
    stream = coll.watch()
    outcome: list[str] = []

    def iterate() -> None:
        for _ in stream:
            outcome.append("event")
        outcome.append("stopped")

    reader = run(iterate)
    time.sleep(0.05)
    stream.close()
    reader.join(DEADLINE)
    assert outcome == ["stopped"] and not stream.alive


def test_many_writers_many_watchers(coll):
    writers, per_writer = 4, 50
    watchers = [coll.watch(max_await_time_ms=AWAIT_MS) for _ in range(3)]
    database_watcher = coll.database.watch(max_await_time_ms=AWAIT_MS)
    results: dict[int, list[Any]] = {}

    def watch(index: int, stream: Any) -> None:
        seen: list[Any] = []
        deadline = time.monotonic() + DEADLINE
        while len(seen) < writers * per_writer and time.monotonic() < deadline:
            event = stream.try_next()
            if event is not None:
                seen.append(event["documentKey"]["_id"])
        results[index] = seen

    def write(writer: int) -> None:
        for n in range(per_writer):
            coll.insert_one({"_id": f"{writer}-{n}"})

    readers = [
        run(lambda i=i, s=s: watch(i, s)) for i, s in enumerate([*watchers, database_watcher])
    ]
    for thread in [run(lambda w=w: write(w)) for w in range(writers)]:
        thread.join(DEADLINE)
    for thread in readers:
        thread.join(DEADLINE)
    expected = {f"{w}-{n}" for w in range(writers) for n in range(per_writer)}
    orders = list(results.values())
    assert len(orders) == 4
    for seen in orders:
        assert sorted(seen) == sorted(expected)  # every event, once
        assert seen == orders[0]  # in the same (journal) order for everyone
        for writer in range(writers):  # and each writer's in its write order
            mine = [k for k in seen if k.startswith(f"{writer}-")]
            assert mine == [f"{writer}-{n}" for n in range(per_writer)]


def test_update_lookup_from_another_thread(coll):
    coll.insert_one({"_id": 1, "n": 0})
    stream = coll.watch(full_document="updateLookup")
    done = threading.Event()

    def update() -> None:
        for n in range(1, 6):
            coll.update_one({"_id": 1}, {"$set": {"n": n}})
        done.set()

    run(update)
    assert done.wait(DEADLINE)
    values = [next(stream)["fullDocument"]["n"] for _ in range(5)]
    assert values == [5] * 5  # looked up when read, after all the writes
    stream.close()
