"""The worker service: runs every active subscription of a database (or the named ones) with
leases, so several workers can run side by side and each subscription is delivered by exactly
one of them; it picks up subscriptions that become active and takes over those whose owner
stopped renewing its lease. SIGTERM or SIGINT stop it cleanly: in-flight deliveries finish,
resume tokens are persisted, leases are released. `queryleaf worker` (queryleaf.shell.
worker_command) is its command line; docs/cli.md and docs/runtime.md are the user documentation."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, TextIO

from queryleaf.runtime.leases import LEASE_SECONDS, RENEW_SECONDS
from queryleaf.runtime.metrics import COUNTERS, LATENCIES, serve_metrics
from queryleaf.runtime.runtime import Runtime
from queryleaf.runtime.stop_requests import StopRequest
from queryleaf.subscriptions.event_columns import SUBSCRIPTIONS

PROGRAM = "queryleaf worker"
SCAN_SECONDS = 5.0  # how often the worker looks for subscriptions to run


class Worker:
    """The worker's loop over one connection; `run()` returns when `stop_event` is set."""

    def __init__(
        self,
        conn: Any,
        names: Sequence[str] = (),
        *,
        err: TextIO | None = None,
        lease_seconds: float = LEASE_SECONDS,
        renew_seconds: float = RENEW_SECONDS,
        scan_seconds: float = SCAN_SECONDS,
    ) -> None:
        self.conn = conn
        self.names = list(names)
        self.err = err if err is not None else sys.stderr
        self.scan_seconds = scan_seconds
        self.stop_event = StopRequest()
        self.running = False
        self.runtime = Runtime(
            conn,
            leases=True,
            lease_seconds=lease_seconds,
            renew_seconds=renew_seconds,
            listener=self._status,
        )
        self._warned: set[str] = set()

    def handle_signal(self, signum: int, frame: Any = None) -> None:
        """The SIGTERM/SIGINT handler: ask the loop to stop (it then stops cleanly)."""
        self.stop_event.handle(signum, frame)

    def install_signal_handlers(self) -> None:
        self.stop_event.install()

    def run(self) -> int:
        self.running = True
        self._say(f"started as {self.runtime.owner}")
        try:
            while not self.stop_event.is_set():
                self.scan()
                self.stop_event.wait(self.scan_seconds)
        finally:
            self.runtime.stop_all()
            self.running = False
            self._say("stopped")
        return 0

    def scan(self) -> None:
        """Start (or ask for the lease of) each subscription in scope that is active."""
        wanted = set(self.runtime.wanted()) | set(self.runtime.running())
        query: dict[str, Any] = {"status": "active"}
        if self.names:
            query["_id"] = {"$in": self.names}
        found = set()
        for document in self.conn.db[SUBSCRIPTIONS].find(query, {"_id": 1, "deliver_to": 1}):
            name = document["_id"]
            found.add(name)
            target = str(document.get("deliver_to") or "")
            handler = target[len("handler:") :] if target.startswith("handler:") else None
            if handler is not None and handler not in self.conn.handlers:
                self._warn_once(
                    name,
                    f"warning: skipping subscription {name}: deliver_to '{target}' needs a "
                    f"Python handler: give it with --handler {handler}=MODULE:CALLABLE",
                )
                continue
            if name in wanted:
                continue
            try:
                self.runtime.start(name)
            except (KeyError, ValueError):  # dropped or stopped since the query
                continue
            if name not in self.runtime.running():
                holder = self.runtime.leases.holder(name) if self.runtime.leases else None
                self._say(f"subscription {name} waiting: lease held by {holder}")
        for name in self.names:
            if name not in found:
                self._warn_once(name, f"warning: subscription {name} is missing or not active")

    def subscriptions(self) -> list[dict[str, Any]]:
        """The subscription documents in scope (for metrics), sorted by name."""
        query = {"_id": {"$in": self.names}} if self.names else {}
        fields = {
            "_id": 1,
            "status": 1,
            "resume_token_timestamp": 1,
            **dict.fromkeys(COUNTERS, 1),
            **{field: 1 for _, field in LATENCIES},
        }
        return sorted(self.conn.db[SUBSCRIPTIONS].find(query, fields), key=lambda d: d["_id"])

    def _status(self, name: str, what: str) -> None:
        self._say(f"subscription {name} {what}")

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self._say(message)

    def _say(self, message: str) -> None:
        print(f"{PROGRAM}: {message}", file=self.err, flush=True)


def run_worker(conn: Any, names: Sequence[str] = (), metrics_port: int | None = None) -> int:
    """Run a Worker on `conn` until SIGTERM or SIGINT, with /metrics and /health on
    127.0.0.1:metrics_port when given; the exit status."""
    worker = Worker(conn, names)
    worker.install_signal_handlers()
    server = None
    if metrics_port is not None:
        try:
            server = serve_metrics(worker, metrics_port)
        except OSError as error:
            print(f"{PROGRAM}: metrics port {metrics_port}: {error}", file=sys.stderr)
            return 1
    try:
        return worker.run()
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
