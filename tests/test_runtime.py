"""The subscription runtime on the embedded engine: targets, retries, dead letters, the event
log and resuming after a restart. Every wait is bounded."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from queryleaf.runtime.runtime import Runtime

FAST = "max_retry_attempts = 2, retry_delay_ms = 10, exponential_backoff = FALSE"


def wait_for(condition: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def subscribe(conn, name: str, options: str) -> None:
    conn.run_sql(f"CREATE EVENT_SUBSCRIPTION {name} AS ({options})")


def subscription(conn, name: str) -> dict[str, Any]:
    return conn.db.event_subscriptions.find_one({"_id": name})


def test_collection_target_keeps_a_copy_in_sync(conn) -> None:
    subscribe(
        conn,
        "mirror",
        "watch_collections = JSON_ARRAY('users'), deliver_to = 'collection:users_copy'",
    )
    conn.run_sql("START EVENT_SUBSCRIPTION mirror")
    assert conn.runtime.is_running("mirror")
    conn.run_sql("INSERT INTO users (_id, name, age) VALUES (1, 'ada', 36), (2, 'alan', 41)")
    conn.run_sql("UPDATE users SET age = 37 WHERE _id = 1")
    conn.run_sql("DELETE FROM users WHERE _id = 2")
    copy = conn.db.users_copy
    wait_for(lambda: subscription(conn, "mirror")["events_delivered"] == 4)
    assert list(copy.find({}, sort=[("_id", 1)])) == [{"_id": 1, "name": "ada", "age": 37}]
    conn.run_sql("STOP EVENT_SUBSCRIPTION mirror")
    assert not conn.runtime.is_running("mirror")
    stored = subscription(conn, "mirror")
    assert stored["events_received"] == 4 and stored["events_dead_lettered"] == 0
    assert stored["resume_token"] is not None and stored["last_event_at"] is not None


def test_handler_target_with_batches_and_the_event_log(conn) -> None:
    batches: list[list[dict]] = []
    entered: list[int] = []
    gate = threading.Event()

    def handler(events):
        entered.append(len(events))
        gate.wait(5)  # hold the first delivery so the rest queue up into one batch
        batches.append(events)

    conn.register_handler("collect", handler)
    subscribe(
        conn,
        "batched",
        "watch_collections = JSON_ARRAY('orders'), deliver_to = 'handler:collect', "
        "batch_processing = TRUE, batch_size = 3",
    )
    conn.start_subscription("batched")
    conn.db.orders.insert_one({"_id": 0})
    wait_for(lambda: entered)
    # Rows are written when their events settle: nothing is logged while the first waits.
    assert conn.db.change_stream_events.count_documents({}) == 0
    conn.db.orders.insert_many([{"_id": i} for i in range(1, 6)])
    gate.set()
    wait_for(lambda: sum(len(b) for b in batches) == 6)
    assert all(isinstance(b, list) and len(b) <= 3 for b in batches)
    assert [e["documentKey"]["_id"] for b in batches for e in b] == list(range(6))
    assert [len(b) for b in batches] == [1, 3, 2]
    conn.stop_subscription("batched")
    rows = conn.run_sql(
        "SELECT document_key, processing_status, subscription_id, event_type, retry_count "
        "FROM CHANGE_STREAM_EVENTS('orders') ORDER BY document_key"
    ).rows
    assert [r["document_key"] for r in rows] == list(range(6))
    assert {r["processing_status"] for r in rows} == {"completed"}
    assert {r["subscription_id"] for r in rows} == {"batched"}
    assert {r["event_type"] for r in rows} == {"insert"}


def test_log_file_target_writes_ndjson(conn, tmp_path) -> None:
    path = tmp_path / "events.ndjson"
    subscribe(conn, "tofile", f"watch_collections = JSON_ARRAY('t'), deliver_to = 'log:{path}'")
    conn.start_subscription("tofile")
    conn.db.t.insert_many([{"_id": 1, "x": 1.5}, {"_id": 2, "x": 2}])
    wait_for(lambda: path.exists() and len(path.read_text().splitlines()) == 2)
    conn.stop_subscription("tofile")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["fullDocument"] for line in lines] == [{"_id": 1, "x": 1.5}, {"_id": 2, "x": 2}]
    assert all(line["operationType"] == "insert" for line in lines)


def test_failing_handler_retries_then_dead_letters(conn) -> None:
    calls: list[int] = []

    def picky(event):
        calls.append(event["documentKey"]["_id"])
        if event["documentKey"]["_id"] % 2:
            raise ValueError("odd documents are refused")

    conn.register_handler("picky", picky)
    subscribe(
        conn,
        "fussy",
        f"watch_collections = JSON_ARRAY('items'), deliver_to = 'handler:picky', {FAST}",
    )
    conn.start_subscription("fussy")
    conn.db.items.insert_many([{"_id": i} for i in range(4)])
    wait_for(lambda: subscription(conn, "fussy")["events_received"] == 4)
    conn.runtime.stop_all()
    # Order is kept: each odd event is tried 3 times before the next event is delivered.
    assert calls == [0, 1, 1, 1, 2, 3, 3, 3]
    stored = subscription(conn, "fussy")
    assert stored["events_delivered"] == 2
    assert stored["events_retried"] == 4
    assert stored["events_dead_lettered"] == 2
    assert "odd documents are refused" in stored["last_error"]
    letters = conn.run_sql(
        "SELECT subscription_id, attempts, error, event.documentKey._id AS id, "
        "event.resume_token AS token FROM DEAD_LETTER_EVENTS() ORDER BY id"
    ).rows
    assert [(r["id"], r["attempts"]) for r in letters] == [(1, 3), (3, 3)]
    assert all(r["subscription_id"] == "fussy" and r["token"]["_data"] for r in letters)
    assert "ValueError" in letters[0]["error"]
    statuses = conn.run_sql(
        "SELECT document_key, processing_status, retry_count FROM CHANGE_STREAM_EVENTS() "
        "ORDER BY document_key"
    ).rows
    assert [(r["processing_status"], r["retry_count"]) for r in statuses] == [
        ("completed", 0), ("dead_letter", 2), ("completed", 0), ("dead_letter", 2),
    ]  # fmt: skip
    ttl = conn.db.dead_letter_events.index_information()
    assert any(index.get("expireAfterSeconds") == 30 * 24 * 3600 for index in ttl.values())


def test_a_restarted_runtime_loses_nothing(conn) -> None:
    seen: list[int] = []

    def slow(events):
        time.sleep(0.05)  # slow enough that the stop lands mid-stream
        seen.extend(e["fullDocument"]["n"] for e in events)

    conn.register_handler("seen", slow)
    subscribe(
        conn,
        "durable",
        "watch_collections = JSON_ARRAY('log'), deliver_to = 'handler:seen', "
        "batch_processing = TRUE, batch_size = 5",
    )
    first = Runtime(conn)
    first.start("durable")
    wait_for(lambda: subscription(conn, "durable")["resume_token"] is not None)
    conn.db.log.insert_many([{"n": n} for n in range(20)])
    wait_for(lambda: len(seen) >= 5)
    first.stop_all()
    assert len(seen) < 20  # stopped mid-stream, after a whole batch
    conn.db.log.insert_many([{"n": n} for n in range(20, 40)])  # written while nothing runs
    second = Runtime(conn)
    second.start("durable")
    wait_for(lambda: 39 in seen)
    conn.db.log.insert_one({"n": 40})
    wait_for(lambda: 40 in seen)
    second.stop_all()
    assert sorted(set(seen)) == list(range(41))
    assert len(seen) - 41 <= 5  # at most one batch delivered twice
    stored = subscription(conn, "durable")
    assert stored["events_delivered"] == len(seen)


class _Hook(BaseHTTPRequestHandler):
    bodies: list[Any] = []
    status = 200

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook():
    handler = type("Hook", (_Hook,), {"bodies": [], "status": 200})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield handler, f"http://127.0.0.1:{server.server_port}/events"
    finally:
        server.shutdown()
        server.server_close()


def test_webhook_success(conn, webhook) -> None:
    hook, url = webhook
    subscribe(conn, "hooked", f"watch_collections = JSON_ARRAY('w'), deliver_to = '{url}'")
    conn.start_subscription("hooked")
    conn.db.w.insert_one({"_id": 1, "when": 5})
    wait_for(lambda: subscription(conn, "hooked")["events_delivered"] == 1)
    conn.runtime.stop_all()
    (body,) = hook.bodies
    assert body["operationType"] == "insert" and body["fullDocument"] == {"_id": 1, "when": 5}


def test_webhook_errors_are_retried_then_dead_lettered(conn, webhook) -> None:
    hook, url = webhook
    hook.status = 500
    subscribe(conn, "broken", f"watch_collections = JSON_ARRAY('w'), deliver_to = '{url}', {FAST}")
    conn.start_subscription("broken")
    conn.db.w.insert_one({"_id": 1})
    wait_for(lambda: subscription(conn, "broken")["events_dead_lettered"] == 1)
    conn.runtime.stop_all()
    assert len(hook.bodies) == 3
    (letter,) = conn.run_sql("SELECT error, attempts FROM DEAD_LETTER_EVENTS()").rows
    assert letter["attempts"] == 3 and "HTTP 500" in letter["error"]
    assert subscription(conn, "broken")["events_retried"] == 2


def test_log_target_prints_and_pause_stops_the_runner(conn, capsys) -> None:
    subscribe(conn, "printer", "watch_collections = JSON_ARRAY('p'), deliver_to = 'log'")
    conn.run_sql("START EVENT_SUBSCRIPTION printer")
    conn.db.p.insert_one({"_id": "a"})
    wait_for(lambda: subscription(conn, "printer")["events_delivered"] == 1)
    conn.run_sql("PAUSE EVENT_SUBSCRIPTION printer")
    assert conn.runtime.running() == []
    assert subscription(conn, "printer")["status"] == "paused"
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["documentKey"] == {"_id": "a"}
    assert conn.run_sql("SELECT COUNT(*) FROM ACTIVE_CHANGE_STREAMS()").scalar() == 0
    with pytest.raises(ValueError, match="paused"):
        conn.runtime.start("printer")


def test_event_log_failures_keeps_rows_only_for_failed_events(conn) -> None:
    def picky(event) -> None:
        if event["documentKey"]["_id"] == 2:
            raise ValueError("no 2")

    conn.register_handler("picky", picky)
    subscribe(
        conn,
        "quiet",
        f"watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:picky', {FAST}, "
        "event_log = 'failures'",
    )
    conn.start_subscription("quiet")
    conn.db.t.insert_many([{"_id": i} for i in range(1, 4)])
    stored = wait_for(lambda: (d := subscription(conn, "quiet")).get("events_received") == 3 and d)
    conn.stop_subscription("quiet")
    rows = conn.run_sql("SELECT document_key, processing_status FROM CHANGE_STREAM_EVENTS()").rows
    assert rows == [{"document_key": 2, "processing_status": "dead_letter"}]
    assert (stored["events_delivered"], stored["events_dead_lettered"]) == (2, 1)


def test_a_slow_window_shows_processing_rows_until_it_settles(conn) -> None:
    gate = threading.Event()
    conn.register_handler("slow", lambda event: gate.wait(5))
    subscribe(conn, "slow", "watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:slow'")
    conn.start_subscription("slow")
    wait_for(lambda: subscription(conn, "slow")["resume_token"] is not None)
    conn.db.t.insert_many([{"_id": 1}, {"_id": 2}])
    status = "SELECT document_key, processing_status FROM CHANGE_STREAM_EVENTS() ORDER BY 1"
    rows = wait_for(lambda: conn.run_sql(status).rows)
    assert rows == [
        {"document_key": 1, "processing_status": "processing"},
        {"document_key": 2, "processing_status": "processing"},
    ]
    gate.set()
    wait_for(lambda: {r["processing_status"] for r in conn.run_sql(status).rows} == {"completed"})
    conn.stop_subscription("slow")
    assert conn.db.change_stream_events.count_documents({}) == 2
