"""The event log: one document per handled event in change_stream_events, with the columns of
CHANGE_STREAM_EVENTS(). A row is written when processing starts (status `processing`) and
updated when it ends (`completed`, `dead_letter`, or `failed` without a dead-letter queue).
Its `_id` is subscription id + event id, so an event delivered again after a restart
overwrites its row instead of adding one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from queryleaf.streams.event_columns import BUSINESS_COLUMNS, EVENT_LOG


def token_time(event: dict[str, Any]) -> dt.datetime | None:
    """The event's clusterTime as a date."""
    cluster_time = event.get("clusterTime")
    if cluster_time is None:
        return None
    return dt.datetime.fromtimestamp(cluster_time.time, dt.UTC)


def log_id(subscription: dict[str, Any], event: dict[str, Any]) -> str:
    return f"{subscription['subscription_id']}:{event['_id']['_data']}"


def log_started(
    db: Any, subscription: dict[str, Any], event: dict[str, Any], started_at: dt.datetime
) -> None:
    namespace = event.get("ns") or {}
    update = event.get("updateDescription") or {}
    row: dict[str, Any] = {
        "event_id": event["_id"]["_data"],
        "subscription_id": subscription["subscription_id"],
        "service_name": subscription.get("service_name"),
        "event_type": event.get("operationType"),
        "collection_name": namespace.get("coll"),
        "database_name": namespace.get("db"),
        "document_key": (event.get("documentKey") or {}).get("_id"),
        "event_data": event.get("fullDocument"),
        "full_document_before_change": event.get("fullDocumentBeforeChange"),
        "updated_fields": update.get("updatedFields"),
        "removed_fields": update.get("removedFields"),
        "event_timestamp": event.get("wallTime"),
        "resume_token": event["_id"],
        "resume_token_timestamp": token_time(event),
        "processing_status": "processing",
        "processing_started_at": started_at,
        "processing_completed_at": None,
        "processing_duration_ms": None,
        "retry_count": 0,
    }
    for column in BUSINESS_COLUMNS:
        row[column] = None
    db[EVENT_LOG].replace_one({"_id": log_id(subscription, event)}, row, upsert=True)


def log_finished(
    db: Any,
    subscription: dict[str, Any],
    events: list[dict[str, Any]],
    status: str,
    started_at: dt.datetime,
    retries: int,
    error: str | None = None,
) -> None:
    finished = _now()
    duration = int((finished - started_at).total_seconds() * 1000)
    ids = [log_id(subscription, event) for event in events]
    db[EVENT_LOG].update_many(
        {"_id": {"$in": ids}},
        {
            "$set": {
                "processing_status": status,
                "processing_completed_at": finished,
                "processing_duration_ms": duration,
                "retry_count": retries,
                "error": error,
            }
        },
    )


def _now() -> dt.datetime:
    now = dt.datetime.now(dt.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
