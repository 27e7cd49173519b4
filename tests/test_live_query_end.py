"""A live query whose stream is invalidated (its collection dropped) ends with it, instead of
polling a closed stream until its timeout."""

from __future__ import annotations

import threading
import time


def test_a_live_query_ends_when_its_stream_is_invalidated(conn):
    conn.run_sql("INSERT INTO orders (_id) VALUES (0)")
    stream = conn.stream_sql(
        "SELECT event_type FROM CHANGE_STREAM_EVENTS('orders') EMIT CHANGES LIMIT 5",
        timeout=20,
    )
    dropper = threading.Timer(0.5, conn.db.orders.drop)
    started = time.monotonic()
    dropper.start()
    try:
        rows = list(stream)
    finally:
        dropper.cancel()
    assert [row["event_type"] for row in rows] == ["drop", "invalidate"]
    assert time.monotonic() - started < 10  # it ended with its stream, not at the timeout
