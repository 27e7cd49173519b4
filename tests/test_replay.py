"""REPLAY DEAD_LETTER_EVENTS: dead letters delivered again through the subscription's target."""

from __future__ import annotations

import datetime as dt

import pytest


def dead_letter(conn, n: int) -> None:
    conn.db.dead_letter_events.insert_one(
        {
            "subscription_id": "sid",
            "event": {
                "operationType": "insert",
                "documentKey": {"_id": n},
                "fullDocument": {"_id": n, "n": n},
                "resume_token": {"_data": f"tok{n}"},
            },
            "error": "boom",
            "attempts": 4,
            "created_at": dt.datetime(2024, 1, 1, 0, 0, n, tzinfo=dt.UTC),
        }
    )


@pytest.fixture
def subscription(conn):
    conn.run_sql(
        "CREATE EVENT_SUBSCRIPTION s AS (subscription_id = 'sid', deliver_to = 'handler:h', "
        "max_retry_attempts = 0, retry_delay_ms = 0)"
    )
    conn.run_sql("STOP EVENT_SUBSCRIPTION s")
    return conn


def test_replay_delivers_in_order_and_removes_what_it_delivered(subscription) -> None:
    conn = subscription
    seen: list[int] = []

    def handler(event):
        if event["documentKey"]["_id"] == 2:
            raise RuntimeError("still broken")
        seen.append(event["documentKey"]["_id"])

    conn.register_handler("h", handler)
    for n in (3, 1, 2):
        dead_letter(conn, n)
    result = conn.run_sql("REPLAY DEAD_LETTER_EVENTS FOR s")
    assert result.rowcount == 2
    assert seen == [1, 3]  # oldest dead letter first
    assert result.warnings == ["1 dead letter(s) failed again and stay"]
    (left,) = conn.db.dead_letter_events.find()
    assert left["event"]["documentKey"] == {"_id": 2}
    assert left["attempts"] == 5 and "still broken" in left["error"]
    stored = conn.db.event_subscriptions.find_one({"_id": "s"})
    # Counters only grow: replayed letters count as delivered and replayed.
    assert stored["events_delivered"] == 2 and stored["events_replayed"] == 2
    assert stored["events_dead_lettered"] == 0


def test_replay_with_a_condition(subscription) -> None:
    conn = subscription
    seen: list[int] = []
    conn.register_handler("h", lambda event: seen.append(event["documentKey"]["_id"]))
    for n in (1, 2, 3):
        dead_letter(conn, n)
    result = conn.run_sql("REPLAY DEAD_LETTER_EVENTS FOR s WHERE event.documentKey._id >= 2")
    assert result.rowcount == 2 and seen == [2, 3]
    assert conn.db.dead_letter_events.count_documents({}) == 1


def test_a_replayed_row_keeps_its_failure_history(subscription) -> None:
    conn = subscription
    conn.register_handler("h", lambda event: None)
    dead_letter(conn, 1)
    conn.db.change_stream_events.insert_one(
        {"_id": "sid:tok1", "processing_status": "dead_letter", "retry_count": 3,
         "error": "boom", "processing_duration_ms": 40}
    )  # fmt: skip
    assert conn.run_sql("REPLAY DEAD_LETTER_EVENTS FOR s").rowcount == 1
    row = conn.db.change_stream_events.find_one({"_id": "sid:tok1"})
    assert (row["processing_status"], row["retry_count"], row["error"]) == ("completed", 4, None)
    assert row["processing_duration_ms"] == 40  # still the original processing's
