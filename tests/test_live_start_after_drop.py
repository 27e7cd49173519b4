"""A live query after other statements of one script, one of which drops the watched
collection: its stream starts after the drop, whose invalidate would otherwise end it."""

from __future__ import annotations

import threading


def test_a_live_query_after_a_drop_and_recreate_sees_the_writes_after_them(conn):
    conn.run_sql("INSERT INTO orders (_id) VALUES (0)")
    results = list(
        conn.execute_script(
            "DROP TABLE orders; CREATE TABLE orders (_id INT); "
            "INSERT INTO orders (_id) VALUES (1); "
            "SELECT event_type, document_key FROM CHANGE_STREAM_EVENTS('orders') "
            "EMIT CHANGES LIMIT 2"
        )
    )
    live = results[-1]
    writer = threading.Timer(0.5, lambda: conn.db.orders.insert_one({"_id": 2}))
    writer.start()
    try:
        rows = list(live.live(10))
    finally:
        writer.cancel()
    # Not the drop and the invalidate that ended the stream: the inserts since.
    assert rows == [
        {"event_type": "insert", "document_key": 1},
        {"event_type": "insert", "document_key": 2},
    ]
