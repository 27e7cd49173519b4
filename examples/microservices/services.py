"""The consuming services: Python handlers and a local webhook.

The notification service has a defined fault: it refuses every event of an order whose
`order_seq` is divisible by 7 (`fails(event)`), until `fixed` is set. Those events exhaust
their retries and become dead letters; the showcase then "deploys the fix" and replays them.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULTY_EVERY = 7  # notification_service refuses orders whose order_seq is a multiple of this


def order_seq(event: dict[str, Any]) -> int | None:
    document = event.get("fullDocument") or {}
    return document.get("order_seq")


def fails(seq: int | None) -> bool:
    """The documented fault of the notification service (before the fix)."""
    return seq is not None and seq % FAULTY_EVERY == 0


class Services:
    """Handlers to register with `conn.register_handler`, and what each one received."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: Counter[str] = Counter()  # handler name -> events accepted
        self.attempts: Counter[str] = Counter()  # notifier: refused attempts
        self.fixed = False

    def handlers(self) -> dict[str, Any]:
        return {
            "personalization": self._counting("personalization"),
            "auth": self._counting("auth"),
            "notifier": self.notifier,
        }

    def _counting(self, name: str) -> Any:
        def handle(event: dict[str, Any]) -> None:
            with self.lock:
                self.received[name] += 1

        return handle

    def notifier(self, event: dict[str, Any]) -> None:
        seq = order_seq(event)
        if not self.fixed and fails(seq):
            with self.lock:
                self.attempts["notifier"] += 1
            raise RuntimeError(f"template for order #{seq} failed to render")
        with self.lock:
            self.received["notifier"] += 1


class Webhook:
    """An HTTP endpoint on 127.0.0.1 (an ephemeral port) that accepts JSON posts and counts
    them; runs in a daemon thread until `close()`."""

    def __init__(self) -> None:
        self.bodies: list[Any] = []
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                with owner.lock:
                    owner.bodies.append(body)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:  # keep the demo's output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
