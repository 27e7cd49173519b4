"""The microservices showcase: the seed's subscriptions delivering a generated workload, then
the seed's monitoring, correlation and dashboard statements over the event log.

    python -m examples.microservices.showcase [--seed N] [--small]
    python examples/microservices/showcase.py

Runs on the embedded engine unless --uri names a MongoDB replica set. `Showcase` exposes each
step, so tests can check the database between them; `Showcase.run()` runs them all.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

if __package__ in (None, ""):  # run as a path: make `examples` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import queryleaf
from examples.microservices import expectations, subscriptions, workload
from examples.microservices.dataset import DEFAULT, SMALL, Scale, Workload, generate
from examples.microservices.present import Printer
from examples.microservices.services import FAULTY_EVERY, Services, Webhook
from queryleaf.errors import QueryLeafError
from queryleaf.shell import render

HERE = Path(__file__).parent
SEED = HERE / "seed"
FINAL_STATUSES = ("completed", "dead_letter", "failed")
NOTIFIER = "notification_service"


@dataclass
class Outcome:
    """What the steps produced; the test compares it with the generator and the database."""

    monitoring_error: QueryLeafError | None = None
    monitoring: list[dict[str, Any]] = field(default_factory=list)
    correlation: list[dict[str, Any]] = field(default_factory=list)
    dashboard_warnings: list[str] = field(default_factory=list)
    dashboard_before: dict[str, Any] = field(default_factory=dict)
    dashboard: dict[str, Any] = field(default_factory=dict)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    replayed: int = 0
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


class Showcase:
    def __init__(
        self,
        conn: queryleaf.Connection,
        *,
        seed: int = 2026,
        scale: Scale = DEFAULT,
        out: TextIO | None = None,
        settle_timeout: float = 40.0,
    ) -> None:
        self.conn = conn
        self.workload: Workload = generate(seed, scale)
        self.expected = expectations.received(self.workload)
        self.services = Services()
        self.webhook: Webhook | None = None
        self.print = Printer(out if out is not None else sys.stdout)
        self.settle_timeout = settle_timeout
        self.outcome = Outcome()
        self._tmp = tempfile.TemporaryDirectory(prefix="queryleaf-showcase-")
        self.audit_file = Path(self._tmp.name) / "audit.ndjson"

    # --- the whole run ---------------------------------------------------------------------

    def run(self) -> Outcome:
        try:
            for name, step in self.steps():
                began = time.perf_counter()
                step()
                self.outcome.timings[name] = time.perf_counter() - began
            self.summary()
        finally:
            self.close()
        return self.outcome

    def steps(self) -> list[tuple[str, Callable[[], None]]]:
        return [
            ("subscribe", self.subscribe),
            ("start", self.start),
            ("workload", self.write_workload),
            ("settle", self.wait_settled),
            ("monitoring", self.monitoring),
            ("correlation", self.correlation),
            ("dashboard", self.dashboard),
            ("replay", self.replay),
        ]

    def close(self) -> None:
        runtime = self.conn.runtime
        for name in subscriptions.SUBSCRIPTION_IDS:
            runtime.stop(name)
        if self.webhook is not None:
            self.webhook.close()
            self.webhook = None
        self._tmp.cleanup()

    # --- steps -----------------------------------------------------------------------------

    def subscribe(self) -> None:
        self.print.heading(
            "Subscriptions (the seed's user_service_events verbatim, then five services)"
        )
        workload.prepare(self.conn.db)
        for name, handler in self.services.handlers().items():
            self.conn.register_handler(name, handler)
        self.webhook = Webhook()
        url = self.webhook.url("/analytics")
        for sql in subscriptions.statements(url, self.audit_file):
            result = self.conn.run_sql(sql)
            name = sql.split("EVENT_SUBSCRIPTION", 1)[1].split()[0]
            self.print.line(f"{result.tag} {name}")
            for warning in result.warnings or []:
                self.print.line(f"  warning: {warning}")
        rows = self.conn.run_sql(
            "SELECT name, subscription_id, service_name, watch_collections, deliver_to, "
            "batch_processing FROM EVENT_SUBSCRIPTIONS() ORDER BY name"
        ).rows
        self.print.table(list(rows[0]), rows)

    def start(self) -> None:
        for name in subscriptions.SUBSCRIPTION_IDS:
            self.conn.run_sql(f"START EVENT_SUBSCRIPTION {name}")
        # A new subscription starts reading when its stream opens ('now'): wait for that,
        # or the first writes would fall before it.
        self._wait(self._streams_open, "the subscriptions' change streams to open", 10.0)

    def write_workload(self) -> None:
        counts: dict[str, int] = {}
        for change in self.workload.changes:
            counts[change.collection] = counts.get(change.collection, 0) + 1
        self.print.heading(
            f"Workload: {len(self.workload.changes)} changes "
            + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        )
        workload.apply(self.conn.db, self.workload)

    def wait_settled(self) -> None:
        expected = {sid: len(changes) for sid, changes in self.expected.items()}
        total = sum(expected.values())
        self.print.line(f"Waiting for {total} deliveries to settle across 6 subscriptions...")
        self._wait(
            lambda: self.settled() == expected,
            "every event to settle",
            self.settle_timeout,
            progress=lambda: f"settled so far {self.settled()}, expected {expected}",
        )
        self.print.line(f"Settled: {total} event-log rows, each completed or dead-lettered.")

    def monitoring(self) -> None:
        self.print.heading("The seed's monitoring query, verbatim")
        try:
            self.conn.run_sql((SEED / "monitoring_query.sql").read_text())
        except QueryLeafError as error:  # the seed's CTE reads columns it does not expose
            self.outcome.monitoring_error = error
            self.print.error(error, "seed/monitoring_query.sql")
        self.print.heading("Corrected (monitoring_query_corrected.sql)")
        rows = self.conn.run_sql((HERE / "monitoring_query_corrected.sql").read_text()).rows
        self.outcome.monitoring = rows
        self.print.table(
            ["subscription_id", "total_events_received", "events_processed",
             "success_rate_percent", "insert_events", "update_events", "delete_events",
             "events_requiring_retry", "service_health_status", "real_time_status"],
            rows,
        )  # fmt: skip

    def correlation(self) -> None:
        self.print.heading("The seed's event-correlation query, verbatim")
        rows = self.conn.run_sql((SEED / "correlation_query.sql").read_text()).rows
        self.outcome.correlation = rows
        by_section = {row["section"]: row["process_analytics"] for row in rows}
        processes = by_section["BUSINESS_PROCESSES"]
        self.print.vertical(processes, skip=["top_processes"])
        self.print.table(
            ["correlation_id", "status", "duration_seconds", "services_involved", "event_sequence"],
            sorted(processes["top_processes"], key=lambda p: -len(p["event_sequence"]))[:3],
        )
        interactions = by_section["SERVICE_INTERACTIONS"]
        self.print.vertical(interactions, skip=["interaction_details"])
        details = sorted(interactions["interaction_details"], key=lambda d: -d["interaction_count"])
        self.print.table(
            ["source_service", "target_service", "interaction_count", "success_rate"], details[:8]
        )

    def dashboard(self) -> None:
        self.print.heading("The seed's dashboard view, verbatim")
        text = (SEED / "dashboard_view.sql").read_text()
        self.print.line(self.conn.run_sql(text).tag)
        select = text[text.index("CREATE VIEW") :].split(" AS\n", 1)[1]
        warnings = self.conn.run_sql("EXPLAIN " + select).warnings or []
        self.outcome.dashboard_warnings = list(warnings)
        for warning in warnings:
            self.print.line(f"warning: {warning}")
        before = self.conn.run_sql("SELECT * FROM microservices_event_dashboard").rows[0]
        self.outcome.dashboard_before = before
        summary = render.format_value(before["service_health_summary"])
        self.print.line(f"service_health_summary: {summary} (event_stream_metrics is missing)")
        self.print.heading("With event_stream_metrics as a view (event_stream_metrics_view.sql)")
        self.conn.run_sql((HERE / "event_stream_metrics_view.sql").read_text())
        row = self.conn.run_sql("SELECT * FROM microservices_event_dashboard").rows[0]
        self.outcome.dashboard = row
        self.print.vertical(row, skip=["service_health_summary"])
        self.print.table(
            ["service_name", "subscription_count", "success_rate", "health_status"],
            row["service_health_summary"] or [],
        )

    def replay(self) -> None:
        self.print.heading(
            f"Dead letters: notification_service refuses orders whose order_seq is a multiple "
            f"of {FAULTY_EVERY}"
        )
        letters = self.conn.run_sql(
            "SELECT event.documentKey._id AS order_id, event.operationType AS event_type, "
            "attempts, error FROM DEAD_LETTER_EVENTS() "
            f"WHERE subscription_id = '{NOTIFIER}' ORDER BY created_at"
        ).rows
        self.outcome.dead_letters = letters
        self.print.table(["order_id", "event_type", "attempts", "error"], letters)
        self.services.fixed = True  # the fix is deployed: the handler renders every order
        result = self.conn.run_sql(f"REPLAY DEAD_LETTER_EVENTS FOR {NOTIFIER}")
        self.outcome.replayed = result.rowcount
        left = self.conn.db.dead_letter_events.count_documents({"subscription_id": NOTIFIER})
        self.print.line(
            f"Fixed the handler; REPLAY DEAD_LETTER_EVENTS FOR {NOTIFIER}: "
            f"{result.rowcount} replayed, {left} left"
        )

    def summary(self) -> None:
        rows = self.conn.run_sql(
            "SELECT name, events_received, events_delivered, events_retried, "
            "events_dead_lettered, events_replayed, delivery_latency_p50_ms, "
            "delivery_latency_p99_ms FROM EVENT_SUBSCRIPTIONS() ORDER BY name"
        ).rows
        self.outcome.subscriptions = rows
        self.print.heading("Subscriptions after the run")
        self.print.table(list(rows[0]), rows)

        def total(key: str) -> int:
            return sum(row[key] or 0 for row in rows)

        p50 = max(row["delivery_latency_p50_ms"] or 0 for row in rows)
        p99 = max(row["delivery_latency_p99_ms"] or 0 for row in rows)
        self.print.heading("Summary")
        self.print.line(
            f"changes written {len(self.workload.changes)}; events received "
            f"{total('events_received')}, delivered {total('events_delivered')} "
            f"({self.outcome.replayed} of them by replay), retried {total('events_retried')} "
            f"times, dead-lettered {total('events_dead_lettered')}, replayed "
            f"{self.outcome.replayed}"
        )
        self.print.line(
            f"delivery latency (commit to delivery), worst subscription: p50 {p50:.1f} ms, "
            f"p99 {p99:.1f} ms"
        )
        copies = self.conn.db.inventory_order_copies.count_documents({})
        in_sync = "equal to" if self.read_model_in_sync() else "DIFFERENT from"
        self.print.line(f"read model inventory_order_copies: {copies} documents, {in_sync} orders")
        timings = ", ".join(f"{k} {v:.2f}s" for k, v in self.outcome.timings.items())
        self.print.line(f"steps: {timings}")
        self.print.flush()

    # --- helpers ---------------------------------------------------------------------------

    def settled(self) -> dict[str, int]:
        """subscription_id -> event-log rows in a final status (read with pymongo)."""
        pipeline = [
            {"$match": {"processing_status": {"$in": list(FINAL_STATUSES)}}},
            {"$group": {"_id": "$subscription_id", "n": {"$sum": 1}}},
        ]
        counts = {
            row["_id"]: row["n"] for row in self.conn.db.change_stream_events.aggregate(pipeline)
        }
        return {sid: counts.get(sid, 0) for sid in self.expected}

    def _streams_open(self) -> bool:
        names = list(subscriptions.SUBSCRIPTION_IDS)
        found = self.conn.db.event_subscriptions.count_documents(
            {"_id": {"$in": names}, "resume_token": {"$ne": None}}
        )
        return found == len(names)

    def _wait(
        self,
        condition: Callable[[], bool],
        what: str,
        timeout: float,
        progress: Callable[[], str] | None = None,
    ) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                detail = f"; {progress()}" if progress is not None else ""
                raise TimeoutError(
                    f"showcase: gave up after {timeout:.0f} s waiting for {what}{detail}"
                )
            time.sleep(0.05)

    def read_model_in_sync(self) -> bool:
        """The inventory service's copy of the orders equals the orders."""
        db = self.conn.db
        orders = list(db.orders.find({}, sort=[("_id", 1)]))
        return list(db.inventory_order_copies.find({}, sort=[("_id", 1)])) == orders


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uri", help="a MongoDB replica set (default: the embedded engine)")
    parser.add_argument("--db", default="microservices_platform")
    parser.add_argument("--seed", type=int, default=2026, help="workload seed")
    parser.add_argument("--small", action="store_true", help="a smaller workload")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    with queryleaf.connect(args.uri, args.db) as conn:
        try:
            Showcase(conn, seed=args.seed, scale=SMALL if args.small else DEFAULT).run()
        except TimeoutError as error:
            print(error, file=sys.stderr)
            return 1
    print(f"showcase finished in {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
