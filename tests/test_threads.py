"""A Connection shared between threads on the embedded engine: writes and reads of one
collection are serialized, so read-modify-write increments are exact and a read never sees
a collection mid-mutation. Bounded by count; threads are joined with a timeout."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest

import queryleaf

THREADS = 8
INCREMENTS = 400  # per thread


@pytest.fixture(autouse=True)
def frequent_switches() -> Iterator[None]:
    """Threads switch every few microseconds (not every 5 ms) so races show up at once."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(previous)


def run_threads(target, count: int = THREADS) -> list[BaseException]:
    errors: list[BaseException] = []

    def guarded(index: int) -> None:
        try:
            target(index)
        except BaseException as error:  # collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return errors


def test_increments_from_eight_threads_are_exact() -> None:
    with queryleaf.connect() as conn:
        conn.run_sql("INSERT INTO c (_id, n, m) VALUES (1, 0, 0), (2, 0, 0)")

        def increment(index: int) -> None:
            for _ in range(INCREMENTS):
                conn.run_sql("UPDATE c SET n = n + 1, m = m + 2 WHERE _id = 1")
                conn.run_sql("UPDATE c SET n = n + 1")

        errors = run_threads(increment)
        rows = conn.run_sql("SELECT _id, n, m FROM c ORDER BY _id").rows
    assert errors == []
    total = THREADS * INCREMENTS
    assert rows == [
        {"_id": 1, "n": 2 * total, "m": 2 * total},
        {"_id": 2, "n": total, "m": 0},
    ]


def test_reads_while_another_thread_writes_raise_nothing() -> None:
    with queryleaf.connect() as conn:
        conn.run_sql("INSERT INTO events (_id, k) VALUES (0, 0)")
        done = threading.Event()
        seen: list[int] = []

        def work(index: int) -> None:
            if index == 0:  # the writer: inserts, updates and deletes
                for i in range(1, 400):
                    conn.run_sql("INSERT INTO events (_id, k) VALUES (?, ?)", [i, i % 7])
                    conn.run_sql("UPDATE events SET k = k + 1 WHERE k = 3")
                    if i % 10 == 0:
                        conn.run_sql("DELETE FROM events WHERE _id = ?", [i - 5])
                done.set()
                return
            while not done.is_set() and len(seen) < 5000:  # the readers
                rows = conn.run_sql("SELECT k, COUNT(*) AS n FROM events GROUP BY k").rows
                seen.append(sum(row["n"] for row in rows))
                conn.run_sql("SELECT * FROM events WHERE k > 2 ORDER BY _id LIMIT 5")

        errors = run_threads(work, count=4)
        final = conn.run_sql("SELECT COUNT(*) AS n FROM events").rows[0]["n"]
    assert errors == []
    assert seen and all(0 < count <= final + 39 for count in seen)
    assert final == 400 - 39


def test_a_read_while_a_subscription_writes_its_event_log() -> None:
    with queryleaf.connect() as conn:
        delivered: list[dict] = []
        conn.register_handler("h", delivered.append)
        conn.run_sql(
            "CREATE EVENT_SUBSCRIPTION s AS (watch_collections = JSON_ARRAY('orders'), "
            "deliver_to = 'handler:h')"
        )
        conn.run_sql("START EVENT_SUBSCRIPTION s")
        errors: list[BaseException] = []
        stop = threading.Event()

        def reader() -> None:
            try:
                for _ in range(2000):
                    if stop.is_set():
                        return
                    conn.run_sql("SELECT COUNT(*) AS n FROM CHANGE_STREAM_EVENTS()")
            except BaseException as error:  # collected for the assertion
                errors.append(error)

        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        for i in range(200):
            conn.run_sql("INSERT INTO orders (_id) VALUES (?)", [i])
        deadline = threading.Event()
        for _ in range(200):
            if len(delivered) >= 200:
                break
            deadline.wait(0.05)
        stop.set()
        thread.join(timeout=60)
    assert errors == []
    assert len(delivered) == 200
