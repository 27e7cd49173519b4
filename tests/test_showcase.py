"""The microservices showcase (examples/microservices), run step by step on a small workload.
Every expected number is derived from the generator's changes and the subscriptions' rules,
or counted with plain pymongo queries on the event log; nothing depends on the embedded
engine (with QUERYLEAF_TEST_URI it runs on a replica set with pre- and post-images)."""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from examples.microservices import expectations
from examples.microservices.dataset import SMALL, Change
from examples.microservices.services import fails
from examples.microservices.showcase import NOTIFIER, Showcase
from examples.microservices.subscriptions import SUBSCRIPTION_IDS
from queryleaf.shell import cli
from tests.conftest import TEST_URI

SERVICES = {  # subscription_id -> service_name, as the subscriptions declare them
    "user_lifecycle_events": "user_service",
    "user_auth_events": "authentication_service",
    "inventory_management": "inventory_service",
    "realtime_analytics": "analytics_service",
    "notification_service": "notification_service",
    "audit_logging": "audit_service",
}
MONITORED = [sid for sid in SERVICES if sid != "user_auth_events"]  # the seed query's IN list


@pytest.fixture
def show(conn) -> Iterator[Showcase]:
    showcase = Showcase(conn, seed=7, scale=SMALL, out=io.StringIO(), settle_timeout=20)
    try:
        for step in (showcase.subscribe, showcase.start, showcase.write_workload):
            step()
        showcase.wait_settled()
        yield showcase
    finally:
        showcase.close()


def log_rows(show: Showcase, **query: Any) -> list[dict[str, Any]]:
    return list(show.conn.db.change_stream_events.find(query))


def faulty(show: Showcase, change: Change) -> bool:
    return change.collection == "orders" and fails(show.workload.order_seqs[change.key])


def test_every_event_is_delivered_or_dead_lettered_as_the_fault_says(show) -> None:
    assert len(show.workload.changes) > 50
    dead = expectations.dead_lettered(show.workload)
    assert dead, "the small workload must exercise the fault"
    for sid, changes in show.expected.items():
        expected = Counter(
            (c.collection, c.key, c.kind,
             "dead_letter" if sid == NOTIFIER and faulty(show, c) else "completed")
            for c in changes
        )  # fmt: skip
        logged = Counter(
            (r["collection_name"], r["document_key"], r["event_type"], r["processing_status"])
            for r in log_rows(show, subscription_id=sid)
        )
        assert logged == expected, sid
    letters = list(show.conn.db.dead_letter_events.find({}))
    assert Counter((d["event"]["documentKey"]["_id"], d["event"]["operationType"]) for d in letters) == Counter(
        (c.key, c.kind) for c in dead
    )  # fmt: skip
    assert {d["attempts"] for d in letters} == {3}  # 1 + max_retry_attempts = 2
    # The Python handlers, the webhook and the audit log got what the rules say.
    received = show.services.received
    assert received["personalization"] == len(show.expected["user_lifecycle_events"])
    assert received["auth"] == len(show.expected["user_auth_events"])
    assert received["notifier"] == len(show.expected[NOTIFIER]) - len(dead)
    assert len(show.webhook.bodies) == len(show.expected["realtime_analytics"])
    audit = [json.loads(line) for line in show.audit_file.read_text().splitlines()]
    assert Counter((e["ns"]["coll"], e["documentKey"]["_id"]) for e in audit) == Counter(
        (c.collection, c.key) for c in show.workload.changes
    )


def test_the_read_model_equals_the_orders(show) -> None:
    db = show.conn.db
    orders = list(db.orders.find({}, sort=[("_id", 1)]))
    assert len(orders) == len(
        [c for c in show.workload.changes if c.collection == "orders" and c.kind == "insert"]
    )
    assert list(db.inventory_order_copies.find({}, sort=[("_id", 1)])) == orders


def test_the_monitoring_query_counts_match_the_event_log(show) -> None:
    show.monitoring()
    error = show.outcome.monitoring_error
    assert error is not None and error.code == "QL315"
    rows = show.outcome.monitoring
    by_sid: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_sid.setdefault(row["subscription_id"], []).append(row)
    assert sorted(by_sid) == sorted(MONITORED)
    for sid, group in by_sid.items():  # one row per hour bucket: a run may cross an hour
        logged = log_rows(show, subscription_id=sid)
        total = sum(r["total_events_received"] for r in group)
        assert total == len(logged) == len(show.expected[sid])
        assert {r["service_name"] for r in group} == {SERVICES[sid]}
        completed = sum(1 for r in logged if r["processing_status"] == "completed")
        assert sum(r["events_processed"] for r in group) == completed
        for kind in ("insert", "update", "delete"):
            column = sum(r[f"{kind}_events"] for r in group)
            assert column == sum(1 for r in logged if r["event_type"] == kind), (sid, kind)
        retried = sum(1 for r in logged if (r.get("retry_count") or 0) > 0)
        assert {r["events_requiring_retry"] for r in group} == {retried}
        if len(group) == 1:
            assert group[0]["success_rate_percent"] == round(completed * 100 / len(logged), 2)
    notifier_dead = len(expectations.dead_lettered(show.workload))
    assert (
        sum(r["events_processed"] for r in by_sid[NOTIFIER])
        == len(show.expected[NOTIFIER]) - notifier_dead
    )


def commit_groups(show: Showcase, correlation_id: str) -> list[list[str]]:
    """The process's changes in commit order, each as the sorted labels
    `service:event_type:collection` of the subscriptions that log it."""
    groups = []
    for change in sorted(show.workload.changes, key=lambda c: c.seq):
        if change.correlation_id != correlation_id:
            continue
        labels = [f"{SERVICES[sid]}:{change.kind}:{change.collection}"
                  for sid, rule in expectations.RULES.items() if rule(change)]  # fmt: skip
        groups.append(sorted(labels))
    return groups


def test_the_correlation_query_follows_commit_order(show) -> None:
    show.correlation()
    sections = {row["section"]: row["process_analytics"] for row in show.outcome.correlation}
    processes = sections["BUSINESS_PROCESSES"]
    changes = show.workload.changes
    all_processes = {(c.correlation_id, c.business_process_id) for c in changes}
    faulty_processes = {
        (c.correlation_id, c.business_process_id) for c in changes if faulty(show, c)
    }
    assert processes["total_processes"] == len(all_processes)
    assert processes["in_progress_processes"] == len(faulty_processes)  # dead letters pending
    assert processes["successful_processes"] == len(all_processes) - len(faulty_processes)
    assert processes["failed_processes"] == 0
    order_totals = {c.key: Decimal(str(c.document["order_total"])) for c in changes
                    if c.collection == "orders" and c.kind == "insert"}  # fmt: skip
    per_event = [
        order_totals[c.key] * sum(1 for rule in expectations.RULES.values() if rule(c))
        for c in changes if c.collection == "orders"
    ]  # fmt: skip
    assert processes["total_business_value"].to_decimal() == sum(per_event)
    top = processes["top_processes"]
    assert top
    for process in top:
        groups = commit_groups(show, process["correlation_id"])
        sequence = process["event_sequence"].split(" -> ")
        assert len(sequence) == sum(len(g) for g in groups)
        chunks, at = [], 0
        for group in groups:
            chunks.append(sorted(sequence[at : at + len(group)]))
            at += len(group)
        assert chunks == groups, process["correlation_id"]
        assert process["services_involved"] == len(
            {label.split(":")[0] for g in groups for label in g}
        )
    interactions = sections["SERVICE_INTERACTIONS"]
    assert interactions["total_interactions"] == sum(len(c) for c in show.expected.values())


def test_the_dashboard_reads_the_metrics_view_and_replay_clears_the_dead_letters(show) -> None:
    show.dashboard()
    assert show.outcome.dashboard_warnings == ["collection event_stream_metrics does not exist"]
    assert show.outcome.dashboard_before["service_health_summary"] is None
    printed = show.print.out.getvalue()
    assert "service_health_summary: NULL (event_stream_metrics is missing)" in printed
    assert "service_health_summary: None" not in printed
    row = show.outcome.dashboard
    dead = expectations.dead_lettered(show.workload)
    assert row["active_subscriptions"] == len(SUBSCRIPTION_IDS)
    assert row["dead_letter_events_hour"] == len(dead)
    health = {h["service_name"]: h for h in row["service_health_summary"]}
    assert sorted(health) == sorted(SERVICES[sid] for sid in MONITORED)
    notifier = health["notification_service"]
    received = len(show.expected[NOTIFIER])
    assert notifier["success_rate"] == round((received - len(dead)) * 100 / received, 2)

    show.replay()
    assert show.outcome.replayed == len(dead)
    assert show.conn.db.dead_letter_events.count_documents({}) == 0
    statuses = Counter(r["processing_status"] for r in log_rows(show, subscription_id=NOTIFIER))
    assert statuses == {"completed": received}
    stored = show.conn.db.event_subscriptions.find_one({"_id": NOTIFIER})
    assert stored["events_dead_lettered"] == stored["events_replayed"] == len(dead)
    assert stored["events_retried"] == 2 * len(dead)
    assert stored["events_delivered"] == received
    assert show.services.received["notifier"] == received


def test_the_sql_walkthrough_runs_as_a_script(capsys, tmp_path, monkeypatch) -> None:
    script = Path(__file__).parents[1] / "examples" / "microservices" / "showcase.sql"
    monkeypatch.setenv("QUERYLEAF_LOG_DIR", str(tmp_path))  # its log:FILE targets
    # --timeout only bounds the script's pause (a live query that ends by itself).
    server = ["--uri", TEST_URI, "--db", "showcase_walkthrough"] if TEST_URI else []
    try:
        assert cli.main([str(script), "--timeout", "15", *server]) == 0
    finally:
        if TEST_URI:
            import pymongo

            with pymongo.MongoClient(TEST_URI) as client:
                client.drop_database("showcase_walkthrough")
    out = capsys.readouterr().out
    # The dead letters the live query saw arrive are the ones REPLAY delivers.
    arrived = re.findall(r"^order_id: (\S+)  attempts: 2  error: URLError", out, re.M)
    replayed = re.search(r"^REPLAY DEAD_LETTER_EVENTS (\d+)$", out, re.M)
    assert arrived and replayed is not None
    assert int(replayed.group(1)) == len(arrived)
    after_replay = out.rsplit("REPLAY DEAD_LETTER_EVENTS", 1)[1]  # the notifications_sent rows
    assert all(order in after_replay for order in arrived)
