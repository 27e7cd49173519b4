"""The event log: one document per handled event in change_stream_events, with the columns of
CHANGE_STREAM_EVENTS(). Rows are written when their events settle (`completed`, `dead_letter`,
or `failed` without a dead-letter queue), a window of events in one write together with the
resume token that moves past them; an event whose delivery failed and waits to be retried
shows as `retrying` meanwhile, and the events of a window that is slow to settle as
`processing` (see runner.PROCESSING_MARK_SECONDS). Its `_id` is subscription id + event id, so an event delivered
again after a restart overwrites its row instead of adding one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

from queryleaf.subscriptions.event_columns import BUSINESS_COLUMNS, EVENT_LOG, utc_now

DUPLICATE_KEY = 11000
_BUSINESS_FIELDS = tuple(f"{column}_field" for column in BUSINESS_COLUMNS)
_NO_BUSINESS = dict.fromkeys(BUSINESS_COLUMNS)


def token_time(event: dict[str, Any]) -> dt.datetime | None:
    """The event's clusterTime as a date."""
    cluster_time = event.get("clusterTime")
    if cluster_time is None:
        return None
    return dt.datetime.fromtimestamp(cluster_time.time, dt.UTC)


def log_id(subscription: dict[str, Any], event: dict[str, Any]) -> str:
    return f"{subscription['subscription_id']}:{event['_id']['_data']}"


def log_row(
    subscription: dict[str, Any],
    event: dict[str, Any],
    status: str,
    started_at: dt.datetime,
    finished_at: dt.datetime | None = None,
    retries: int = 0,
    error: str | None = None,
) -> dict[str, Any]:
    """The event's row as CHANGE_STREAM_EVENTS() shows it."""
    namespace = event.get("ns") or {}
    update = event.get("updateDescription") or {}
    duration = None
    if finished_at is not None:
        duration = int((finished_at - started_at).total_seconds() * 1000)
    row: dict[str, Any] = {
        "_id": log_id(subscription, event),
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
        "processing_status": status,
        "processing_started_at": started_at,
        "processing_completed_at": finished_at,
        "processing_duration_ms": duration,
        "retry_count": retries,
        "error": error,
    }
    if any(subscription.get(field) for field in _BUSINESS_FIELDS):
        for column in BUSINESS_COLUMNS:
            row[column] = business_value(subscription, event, column)
    else:  # none configured (the common case): all NULL
        row.update(_NO_BUSINESS)
    return row


def write_rows(db: Any, rows: list[dict[str, Any]]) -> None:
    """Write settled rows in one round trip. An event delivered again (after a restart, or
    one that was marked `retrying`) already has a row: those are replaced one by one."""
    if not rows:
        return
    try:
        db[EVENT_LOG].insert_many(rows, ordered=False)
    except BulkWriteError as error:
        existing = {
            failure.get("index")
            for failure in error.details.get("writeErrors", [])
            if failure.get("code") == DUPLICATE_KEY
        }
        other = [f for f in error.details.get("writeErrors", []) if f.get("code") != DUPLICATE_KEY]
        if other:
            raise
        for index in sorted(existing):
            row = rows[index]
            db[EVENT_LOG].replace_one({"_id": row["_id"]}, row, upsert=True)


def mark_processing(db: Any, subscription: dict[str, Any], events: list[dict[str, Any]]) -> None:
    """Rows for events of a window still being delivered; a row that exists (an event marked
    `retrying`, or logged by an earlier delivery) is left as it is."""
    started = utc_now()
    requests = []
    for event in events:
        row = log_row(subscription, event, "processing", started)
        key = row.pop("_id")  # the filter gives the inserted row its _id
        requests.append(UpdateOne({"_id": key}, {"$setOnInsert": row}, upsert=True))
    db[EVENT_LOG].bulk_write(requests, ordered=False)


def clear_retrying(db: Any, subscription: dict[str, Any], events: list[dict[str, Any]]) -> None:
    """Remove the `retrying` rows of a unit a stop interrupted (it is delivered again)."""
    ids = [log_id(subscription, event) for event in events]
    db[EVENT_LOG].delete_many({"_id": {"$in": ids}, "processing_status": "retrying"})


def mark_retrying(
    db: Any,
    subscription: dict[str, Any],
    events: list[dict[str, Any]],
    started_at: dt.datetime,
    retries: int,
    error: str,
) -> None:
    """Rows of a unit that failed and will be tried again: visible while it waits."""
    for event in events:
        row = log_row(subscription, event, "retrying", started_at, None, retries, error)
        db[EVENT_LOG].replace_one({"_id": row["_id"]}, row, upsert=True)


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


def ensure_log_ttl(db: Any, days: int) -> None:
    """Event log rows expire `days` after processing started."""
    db[EVENT_LOG].create_index("processing_started_at", expireAfterSeconds=days * 24 * 3600)


def log_replayed(
    db: Any, subscription: dict[str, Any], event: dict[str, Any], attempts: int
) -> None:
    """A dead letter delivered by REPLAY: its row becomes `completed`; the replay's attempts
    add to its retry_count (the history of failures stays visible), and processing_started_at
    and processing_duration_ms keep describing the original processing."""
    db[EVENT_LOG].update_one(
        {"_id": log_id(subscription, event)},
        {
            "$set": {
                "processing_status": "completed",
                "processing_completed_at": utc_now(),
                "error": None,
            },
            "$inc": {"retry_count": attempts},
        },
    )
