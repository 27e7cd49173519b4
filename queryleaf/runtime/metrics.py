"""The worker's Prometheus metrics (/metrics) and health (/health): subscription counters,
whether each runs here, delivery latency quantiles and resume-token lag."""

from __future__ import annotations

import datetime as dt
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from queryleaf.subscriptions.event_columns import utc_now

if TYPE_CHECKING:
    from queryleaf.runtime.worker import Worker

COUNTERS = (
    "events_received",
    "events_delivered",
    "events_retried",
    "events_dead_lettered",
    "events_skipped",
    "events_replayed",
)
LATENCIES = (("0.5", "delivery_latency_p50_ms"), ("0.99", "delivery_latency_p99_ms"))


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
