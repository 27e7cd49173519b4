"""Webhook failures that are not HTTP errors: a webhook that hangs past processing_timeout_ms,
and a URL where nothing listens. Both are retried, then dead-lettered. Every wait is bounded."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.test_runtime import subscribe, subscription, wait_for

RETRY = (
    "processing_timeout_ms = 200, max_retry_attempts = 1, retry_delay_ms = 10, "
    "exponential_backoff = FALSE"
)


class _SlowHook(BaseHTTPRequestHandler):
    release: threading.Event
    requests: list[float]

    def do_POST(self) -> None:
        type(self).requests.append(time.monotonic())
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).release.wait(3)  # far longer than the 200 ms the runner allows
        try:
            self.send_response(200)
            self.end_headers()
        except OSError:  # the runner gave up and closed the connection
            pass

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def slow_webhook() -> Iterator[tuple[type[_SlowHook], str]]:
    handler = type("SlowHook", (_SlowHook,), {"release": threading.Event(), "requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield handler, f"http://127.0.0.1:{server.server_port}/events"
    finally:
        handler.release.set()  # let the sleeping requests end
        server.shutdown()
        server.server_close()


def free_port() -> int:
    """A port nothing listens on: bound once to pick it, then closed."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dead_letters(conn) -> list[dict[str, Any]]:
    return conn.run_sql(
        "SELECT subscription_id, attempts, error, event.documentKey._id AS id "
        "FROM DEAD_LETTER_EVENTS()"
    ).rows


def test_a_hanging_webhook_times_out_is_retried_then_dead_lettered(conn, slow_webhook) -> None:
    hook, url = slow_webhook
    subscribe(
        conn,
        "hanging",
        f"watch_collections = JSON_ARRAY('w'), deliver_to = '{url}', allow_private_network = TRUE, {RETRY}",
    )
    conn.start_subscription("hanging")
    conn.db.w.insert_one({"_id": 1})
    started = time.monotonic()
    wait_for(lambda: subscription(conn, "hanging")["events_dead_lettered"] == 1, timeout=4)
    elapsed = time.monotonic() - started
    conn.runtime.stop_all(timeout=5)
    assert len(hook.requests) == 2  # the first attempt and one retry, each cut off
    assert elapsed < 2.5  # two 200 ms timeouts, not the webhook's 3 s
    (letter,) = dead_letters(conn)
    assert letter["subscription_id"] == "hanging" and letter["id"] == 1
    assert letter["attempts"] == 2
    assert "timed out" in letter["error"].lower()
    stored = subscription(conn, "hanging")
    assert stored["events_retried"] == 1 and stored["events_delivered"] == 0
    assert "timed out" in stored["last_error"].lower()


def test_a_refused_connection_is_retried_then_dead_lettered(conn) -> None:
    url = f"http://127.0.0.1:{free_port()}/events"
    subscribe(
        conn,
        "nowhere",
        f"watch_collections = JSON_ARRAY('w'), deliver_to = '{url}', allow_private_network = TRUE, {RETRY}",
    )
    conn.start_subscription("nowhere")
    conn.db.w.insert_many([{"_id": 1}, {"_id": 2}])
    wait_for(lambda: subscription(conn, "nowhere")["events_dead_lettered"] == 2, timeout=4)
    conn.runtime.stop_all(timeout=5)
    letters = sorted(dead_letters(conn), key=lambda r: r["id"])
    assert [(r["id"], r["attempts"]) for r in letters] == [(1, 2), (2, 2)]
    assert all(r["subscription_id"] == "nowhere" for r in letters)
    assert all("refused" in r["error"].lower() for r in letters)
    assert all(r["error"].startswith("URLError") for r in letters)
    stored = subscription(conn, "nowhere")
    assert stored["events_retried"] == 2 and stored["events_delivered"] == 0
    statuses = conn.run_sql(
        "SELECT processing_status, retry_count FROM CHANGE_STREAM_EVENTS('w')"
    ).rows
    assert [(r["processing_status"], r["retry_count"]) for r in statuses] == [
        ("dead_letter", 1)
    ] * 2
