"""The event log: one document per handled event in change_stream_events, with the columns of
CHANGE_STREAM_EVENTS(). A row is written when processing starts (status `processing`) and
updated when it ends (`completed`, `dead_letter`, or `failed` without a dead-letter queue).
Its `_id` is subscription id + event id, so an event delivered again after a restart
overwrites its row instead of adding one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from queryleaf.streams.active_streams import utc_now
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
        row[column] = business_value(subscription, event, column)
    db[EVENT_LOG].replace_one({"_id": log_id(subscription, event)}, row, upsert=True)


def business_value(subscription: dict[str, Any], event: dict[str, Any], column: str) -> Any:
    """A business column read from the changed document at the path the subscription names
    (`correlation_id_field` ...); the pre-image serves deletes. NULL when not configured."""
    path = subscription.get(f"{column}_field")
    if not path:
        return None
    document = event.get("fullDocument") or event.get("fullDocumentBeforeChange") or {}
    value: Any = document
    for part in str(path).split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def log_retrying(
    db: Any, subscription: dict[str, Any], events: list[dict[str, Any]], retries: int, error: str
) -> None:
    """Rows of a unit that failed and will be tried again."""
    ids = [log_id(subscription, event) for event in events]
    db[EVENT_LOG].update_many(
        {"_id": {"$in": ids}},
        {"$set": {"processing_status": "retrying", "retry_count": retries, "error": error}},
    )


def ensure_log_ttl(db: Any, days: int) -> None:
    """Event log rows expire `days` after processing started."""
    db[EVENT_LOG].create_index("processing_started_at", expireAfterSeconds=days * 24 * 3600)


def log_finished(
    db: Any,
    subscription: dict[str, Any],
    events: list[dict[str, Any]],
    status: str,
    started_at: dt.datetime,
    retries: int,
    error: str | None = None,
) -> None:
    finished = utc_now()
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
