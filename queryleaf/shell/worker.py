"""`queryleaf worker`: run event subscriptions outside an interactive connection.

    queryleaf worker --uri mongodb://host/?replicaSet=rs0 --db app
    queryleaf worker --uri ... --subscription audit --subscription mirror --metrics-port 9108
    queryleaf worker --uri ... --handler billing=myapp.handlers:on_order

It runs every active subscription (or only the named ones) with leases, so several workers
can run side by side and each subscription is delivered by exactly one of them; it picks up
subscriptions that become active, and takes over those whose owner stopped renewing its
lease. SIGTERM or SIGINT stop it cleanly: in-flight deliveries finish, resume tokens are
persisted, leases are released, and it exits 0. `--handler NAME=MODULE:CALLABLE` imports a
Python callable for subscriptions delivering to 'handler:NAME'; those whose handler was not
given are skipped with a warning.
docs/cli.md and docs/runtime.md are the user documentation."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import signal
import sys
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO

from queryleaf.streams.active_streams import utc_now
from queryleaf.streams.event_columns import SUBSCRIPTIONS
from queryleaf.streams.leases import LEASE_SECONDS, RENEW_SECONDS
from queryleaf.streams.runtime import Runtime

PROGRAM = "queryleaf worker"
SCAN_SECONDS = 5.0  # how often the worker looks for subscriptions to run
COUNTERS = (
    "events_received",
    "events_delivered",
    "events_retried",
    "events_dead_lettered",
    "events_skipped",
    "events_replayed",
)
LATENCIES = (("0.5", "delivery_latency_p50_ms"), ("0.99", "delivery_latency_p99_ms"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        description="Run event subscriptions until SIGTERM or SIGINT. Each subscription runs "
        "in one worker at a time (leases in event_subscription_leases).",
        epilog="Subscriptions delivering to 'handler:NAME' run when --handler gives NAME a "
        "callable, and are skipped with a warning otherwise.",
    )
    parser.add_argument("--uri", metavar="URI", help="MongoDB connection string")
    parser.add_argument("--db", default="queryleaf", metavar="NAME", help="database name")
    parser.add_argument(
        "--subscription",
        action="append",
        dest="subscriptions",
        default=[],
        metavar="NAME",
        help="run only this subscription (repeatable); default: every active one",
    )
    parser.add_argument(
        "--handler",
        action="append",
        dest="handlers",
        default=[],
        metavar="NAME=MODULE:CALLABLE",
        help="deliver_to = 'handler:NAME' calls MODULE.CALLABLE (imported from the current "
        "directory or the installed packages; repeatable)",
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve Prometheus metrics on 127.0.0.1:PORT/metrics (and /health)",
    )
    return parser


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
        self.stop_event = threading.Event()
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
        self.stop_event.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.handle_signal)
        signal.signal(signal.SIGINT, self.handle_signal)

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


# --- metrics ---------------------------------------------------------------------------------


def render_metrics(worker: Worker) -> str:
    """The Prometheus text exposition of the worker's subscriptions."""
    documents = worker.subscriptions()
    running = set(worker.runtime.running())
    lines = []
    for counter in COUNTERS:
        metric = f"queryleaf_subscription_{counter}_total"
        lines.append(f"# HELP {metric} {counter.replace('_', ' ')} (from the subscription)")
        lines.append(f"# TYPE {metric} counter")
        for document in documents:
            value = int(document.get(counter) or 0)
            lines.append(f'{metric}{{subscription="{_label(document["_id"])}"}} {value}')
    lines.append("# HELP queryleaf_subscription_up 1 when the subscription runs in this worker")
    lines.append("# TYPE queryleaf_subscription_up gauge")
    for document in documents:
        up = 1 if document["_id"] in running else 0
        lines.append(f'queryleaf_subscription_up{{subscription="{_label(document["_id"])}"}} {up}')
    metric = "queryleaf_subscription_delivery_latency_seconds"
    lines.append(f"# HELP {metric} commit-to-delivery latency over the last 1000 deliveries")
    lines.append(f"# TYPE {metric} gauge")
    for document in documents:
        for quantile, field in LATENCIES:
            if document.get(field) is not None:
                seconds = float(document[field]) / 1000
                name = _label(document["_id"])
                lines.append(f'{metric}{{subscription="{name}",quantile="{quantile}"}} {seconds}')
    metric = "queryleaf_subscription_lag_seconds"
    lines.append(f"# HELP {metric} now minus the time of the subscription's resume token")
    lines.append(f"# TYPE {metric} gauge")
    now = utc_now()
    for document in documents:
        at = document.get("resume_token_timestamp")
        if isinstance(at, dt.datetime):
            at = at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)
            lag = max(0.0, (now - at).total_seconds())
            lines.append(f'{metric}{{subscription="{_label(document["_id"])}"}} {lag:.3f}')
    return "\n".join(lines) + "\n"


def _label(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def serve_metrics(worker: Worker, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Serve /metrics and /health on host:port in a daemon thread; `.shutdown()` stops it."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                try:
                    status, body = 200, render_metrics(worker)
                except Exception as error:  # the database is unreachable
                    status, body = 503, f"metrics unavailable: {error}\n"
                content_type = "text/plain; version=0.0.4; charset=utf-8"
            elif path == "/health":
                status = 200 if worker.running else 503
                body = "ok\n" if worker.running else "not running\n"
                content_type = "text/plain; charset=utf-8"
            else:
                status, body, content_type = 404, "not found\n", "text/plain; charset=utf-8"
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # no access log on stderr

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="queryleaf-metrics", daemon=True)
    thread.start()
    return server


# --- the command -----------------------------------------------------------------------------


def load_handler(spec: str) -> tuple[str, Any]:
    """`NAME=MODULE:CALLABLE` to (NAME, the callable); ValueError naming what is wrong."""
    name, _, path = spec.partition("=")
    module_name, _, attribute = path.partition(":")
    if not name or not module_name or not attribute:
        raise ValueError(f"--handler {spec!r}: expected NAME=MODULE:CALLABLE")
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")  # like `python -m`: modules of the current directory
    try:
        value: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            value = getattr(value, part)
    except ImportError as error:
        raise ValueError(f"--handler {spec!r}: cannot import {module_name}: {error}") from None
    except AttributeError:
        raise ValueError(f"--handler {spec!r}: {module_name} has no {attribute}") from None
    if not callable(value):
        raise ValueError(f"--handler {spec!r}: {module_name}.{attribute} is not callable")
    return name, value


def main(argv: Sequence[str]) -> int:
    """`queryleaf worker ...` (argv without the `worker` word); the exit status."""
    from pymongo.errors import PyMongoError

    from queryleaf import connect
    from queryleaf.errors import QueryLeafError

    parser = build_parser()
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        handlers = dict(load_handler(spec) for spec in args.handlers)
    except ValueError as error:
        print(f"{PROGRAM}: {error}", file=sys.stderr)
        return 2
    if args.uri is None:
        print(
            f"{PROGRAM}: warning: no --uri: running on a fresh embedded in-memory engine, "
            "which has no subscriptions",
            file=sys.stderr,
        )
    try:
        conn = connect(args.uri, args.db)
    except (QueryLeafError, PyMongoError) as error:
        print(f"{PROGRAM}: {error}", file=sys.stderr)
        return 1
    for name, handler in handlers.items():
        conn.register_handler(name, handler)
    server = None
    try:
        worker = Worker(conn, args.subscriptions)
        worker.install_signal_handlers()
        if args.metrics_port is not None:
            try:
                server = serve_metrics(worker, args.metrics_port)
            except OSError as error:
                print(f"{PROGRAM}: metrics port {args.metrics_port}: {error}", file=sys.stderr)
                return 1
        return worker.run()
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        conn.close()
