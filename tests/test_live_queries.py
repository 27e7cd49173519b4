"""Live queries (EMIT CHANGES) end to end, with writes from another thread."""

from __future__ import annotations

import json
import threading
import time

import pytest

from queryleaf import QueryLeafError


def write_later(action, db) -> threading.Thread:
    """Run `action` once a live query's stream is open (it registers itself in
    active_change_streams), so the writes cannot happen before the stream sees them."""

    def run() -> None:
        deadline = time.monotonic() + 10
        while db.active_change_streams.count_documents({}) == 0:
            if time.monotonic() > deadline:
                return
            time.sleep(0.02)
        action()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_explain_shows_the_watch_target_and_pipeline(conn) -> None:
    result = conn.run_sql(
        "EXPLAIN SELECT event_type, event_data.total AS total FROM CHANGE_STREAM_EVENTS('orders') "
        "WHERE event_type = 'insert' AND event_data.total > 100 EMIT CHANGES LIMIT 2"
    )
    assert json.loads(result.rows[0]["command"]) == {
        "aggregate": "orders",
        "pipeline": [
            {"$changeStream": {"fullDocument": "updateLookup"}},
            {"$match": {"operationType": "insert", "fullDocument.total": {"$gt": 100}}},
            {"$project": {"_id": 1, "c0": "$operationType", "c1": "$fullDocument.total"}},
        ],
        "cursor": {},
    }


def test_rows_arrive_as_writes_happen(conn) -> None:
    def writes() -> None:
        for i in range(5):
            conn.db.orders.insert_one({"_id": i, "total": i * 50})
        conn.db.orders.update_one({"_id": 4}, {"$set": {"total": 1}})
        conn.db.orders.delete_one({"_id": 3})

    thread = write_later(writes, conn.db)
    result = conn.run_sql(
        "SELECT event_type, document_key, event_data.total AS total "
        "FROM CHANGE_STREAM_EVENTS('orders') WHERE event_data.total > 60 OR event_type = 'delete' "
        "EMIT CHANGES LIMIT 4",
        timeout=10,
    )
    thread.join()
    assert result.columns == ["event_type", "document_key", "total"]
    assert result.rows == [
        {"event_type": "insert", "document_key": 2, "total": 100},
        {"event_type": "insert", "document_key": 3, "total": 150},
        {"event_type": "insert", "document_key": 4, "total": 200},
        {"event_type": "delete", "document_key": 3, "total": None},
    ]


def test_several_collections_and_the_event_columns(conn) -> None:
    def writes() -> None:
        conn.db.users.insert_one({"_id": "u1", "name": "ada"})
        conn.db.ignored.insert_one({"_id": 1})
        conn.db.orders.insert_one({"_id": "o1", "user": "u1"})

    thread = write_later(writes, conn.db)
    rows = list(
        conn.stream_sql(
            "SELECT collection_name, database_name, event_type, document_key, event_data, "
            "updated_fields, processing_status, subscription_id "
            "FROM CHANGE_STREAM_EVENTS('users', 'orders') EMIT CHANGES LIMIT 2",
            timeout=10,
        )
    )
    thread.join()
    database = conn.db.name
    assert rows == [
        {"collection_name": "users", "database_name": database, "event_type": "insert",
         "document_key": "u1", "event_data": {"_id": "u1", "name": "ada"},
         "updated_fields": None, "processing_status": None, "subscription_id": None},
        {"collection_name": "orders", "database_name": database, "event_type": "insert",
         "document_key": "o1", "event_data": {"_id": "o1", "user": "u1"},
         "updated_fields": None, "processing_status": None, "subscription_id": None},
    ]  # fmt: skip


def test_updates_report_their_fields(conn) -> None:
    conn.db.users.insert_one({"_id": 1, "name": "ada", "age": 36})
    thread = write_later(
        lambda: conn.db.users.update_one({"_id": 1}, {"$set": {"age": 37}, "$unset": {"name": ""}}),
        conn.db,
    )
    (row,) = conn.stream_sql(
        "SELECT updated_fields, removed_fields, event_data.age AS age "
        "FROM CHANGE_STREAM_EVENTS('users') WHERE event_type = 'update' EMIT CHANGES LIMIT 1",
        timeout=10,
    )
    thread.join()
    assert row == {"updated_fields": {"age": 37}, "removed_fields": ["name"], "age": 37}


def test_timeout_ends_a_quiet_stream(conn) -> None:
    started = time.monotonic()
    rows = list(conn.stream_sql("SELECT * FROM CHANGE_STREAM_EVENTS() EMIT CHANGES", timeout=0.3))
    assert rows == []
    assert time.monotonic() - started < 5


def test_whole_database_streams_skip_queryleaf_collections(conn) -> None:
    thread = write_later(lambda: conn.db.things.insert_one({"_id": 1}), conn.db)
    rows = list(
        conn.stream_sql(
            "SELECT collection_name FROM CHANGE_STREAM_EVENTS() EMIT CHANGES", timeout=1.0
        )
    )
    thread.join()
    # The live query's own row in active_change_streams does not come back as an event.
    assert rows == [{"collection_name": "things"}]


def test_open_live_queries_are_listed_while_they_run(conn) -> None:
    seen: list[int] = []

    def look() -> None:
        seen.append(conn.run_sql("SELECT COUNT(*) FROM ACTIVE_CHANGE_STREAMS()").scalar())
        conn.db.orders.insert_one({"_id": 1})

    thread = write_later(look, conn.db)
    conn.run_sql(
        "SELECT document_key FROM CHANGE_STREAM_EVENTS('orders') EMIT CHANGES LIMIT 1", timeout=10
    )
    thread.join()
    assert seen == [1]
    assert conn.run_sql("SELECT COUNT(*) FROM ACTIVE_CHANGE_STREAMS()").scalar() == 0


@pytest.mark.parametrize(
    ("sql", "code"),
    [
        ("SELECT * FROM orders EMIT CHANGES", "QL330"),
        ("SELECT COUNT(*) FROM CHANGE_STREAM_EVENTS() GROUP BY event_type EMIT CHANGES", "QL209"),
        ("SELECT nope FROM CHANGE_STREAM_EVENTS() EMIT CHANGES LIMIT 1", "QL314"),
        ("SELECT * FROM CHANGE_STREAM_EVENTS() EMIT CHANGES", "QL331"),
    ],
)
def test_live_query_errors(conn, sql: str, code: str) -> None:
    with pytest.raises(QueryLeafError) as caught:
        conn.run_sql(sql)
    assert caught.value.code == code
