"""The seed document's analytical statements (examples/microservices/seed): each parses, and either
runs or fails with an error that names exactly what is wrong."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from queryleaf import QueryLeafError, SemanticError
from tests.case_files import SEED_DIR

SEED = SEED_DIR


def seed(name: str) -> str:
    return (SEED / f"{name}.sql").read_text()


def log_events(conn) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    common = {
        "processing_status": "completed",
        "source_service": "orders",
        "target_service": "stock",
    }
    conn.db.change_stream_events.insert_many(
        [
            {**common, "correlation_id": "c1", "business_process_id": "p1", "service_name": "orders",
             "event_type": "insert", "collection_name": "orders", "event_data": {"order_total": 10.5},
             "event_timestamp": now - dt.timedelta(seconds=30), "processing_duration_ms": 5,
             "interaction_type": "reserve"},
            {**common, "correlation_id": "c1", "business_process_id": "p1", "service_name": "stock",
             "event_type": "update", "collection_name": "inventory", "event_data": {"qty": 1},
             "event_timestamp": now - dt.timedelta(seconds=10), "processing_duration_ms": 7,
             "interaction_type": "reserve"},
            {**common, "correlation_id": "c2", "business_process_id": "p2", "service_name": "orders",
             "event_type": "insert", "collection_name": "orders", "event_data": {"order_total": 4},
             "event_timestamp": now - dt.timedelta(seconds=5), "processing_duration_ms": 3,
             "processing_status": "failed", "interaction_type": "reserve"},
            # Older than the query's one-hour window: left out of the processes.
            {**common, "correlation_id": "old", "business_process_id": "p0", "service_name": "orders",
             "event_type": "insert", "collection_name": "orders", "event_data": {"order_total": 99},
             "event_timestamp": now - dt.timedelta(days=2), "processing_duration_ms": 1,
             "interaction_type": "reserve"},
        ]
    )  # fmt: skip


def test_the_monitoring_query_names_the_column_its_cte_does_not_expose(conn) -> None:
    text = seed("monitoring_query")
    with pytest.raises(SemanticError) as caught:
        conn.run_sql(text)
    error = caught.value
    assert error.code == "QL315"
    assert error.message == "event_stream_metrics has no column event_timestamp"
    assert "exposes only its select list" in (error.hint or "")
    line = text.splitlines()[error.line - 1]
    assert line[error.column - 1 :].startswith("event_timestamp")
    assert "processing_performance" in "\n".join(text.splitlines()[: error.line])


def test_the_correlation_query_runs(conn) -> None:
    log_events(conn)
    result = conn.run_sql(seed("correlation_query"))
    assert result.columns == ["section", "process_analytics"]
    processes, interactions = sorted(result.rows, key=lambda r: r["section"])
    assert processes["section"] == "BUSINESS_PROCESSES"
    analytics = processes["process_analytics"]
    assert analytics["total_processes"] == 2
    assert analytics["successful_processes"] == 1
    assert analytics["failed_processes"] == 1
    assert analytics["total_business_value"].to_decimal() == Decimal("14.50")
    by_id = {p["correlation_id"]: p for p in analytics["top_processes"]}
    assert set(by_id) == {"c1", "c2"}
    assert by_id["c1"]["event_sequence"] == "orders:insert:orders -> stock:update:inventory"
    assert by_id["c1"]["duration_seconds"] == 20
    assert by_id["c1"]["services_involved"] == 2
    # The interactions CTE reads the last 24 hours: the two-day-old event is out.
    assert interactions["process_analytics"]["total_interactions"] == 3
    (pair,) = interactions["process_analytics"]["interaction_details"]
    assert pair["source_service"] == "orders" and pair["interaction_count"] == 3
    assert pair["success_rate"] == 66.67


def test_the_correlation_query_is_one_pipeline(conn) -> None:
    result = conn.run_sql("EXPLAIN " + seed("correlation_query"))
    assert result.rows[0]["command"].count('"$unionWith"') == 1
    assert "client-side" not in (result.rows[0]["notes"] or "")


def test_the_dashboard_view_is_created_and_names_the_cte_it_cannot_see(conn) -> None:
    text = seed("dashboard_view")
    explained = conn.run_sql("EXPLAIN " + text.split("\n", 2)[2])
    # event_stream_metrics is a CTE of the monitoring query, not a collection.
    assert explained.warnings == ["collection event_stream_metrics does not exist"]
    assert conn.run_sql(text).tag == "CREATE VIEW"
    log_events(conn)
    conn.run_sql("CREATE EVENT_SUBSCRIPTION s AS (watch_collections = JSON_ARRAY('orders'))")
    (row,) = conn.run_sql("SELECT * FROM microservices_event_dashboard").rows
    assert row["active_subscriptions"] == 1
    assert row["errors_last_hour"] == 1
    assert row["queued_events"] == 0
    assert row["service_health_summary"] is None  # no rows in event_stream_metrics
    assert row["overall_system_health"] == "Healthy"


def test_the_traditional_postgresql_blocks_are_tables_and_then_a_clear_refusal(conn) -> None:
    from queryleaf.parse import split_statements

    statements = split_statements(seed("traditional_postgresql"))
    tables = statements[:3]
    for statement in tables:
        result = conn.run_sql(statement.text)
        assert result.tag == "CREATE TABLE"
        assert any("not enforced" in w for w in result.warnings)
    assert set(conn.db.list_collection_names()) >= {
        "service_events", "event_subscriptions", "event_processing_queue"
    }  # fmt: skip
    with pytest.raises(QueryLeafError) as caught:
        conn.run_sql(statements[3].text)
    assert caught.value.code == "QL207"
    assert caught.value.message.startswith("CREATE FUNCTION is not supported")
    assert "CREATE EVENT_SUBSCRIPTION" in (caught.value.hint or "")
