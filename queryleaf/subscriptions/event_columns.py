"""The one column set of change events, live (read from a change stream) and logged (read
from the event log the runtime writes). Live rows compute each column from the change
event; logged rows store the columns as fields."""

from __future__ import annotations

import datetime as dt
from typing import Any

from queryleaf.system_collections import (  # noqa: F401  (re-exported for the rooms above)
    ACTIVE_STREAMS,
    DEAD_LETTERS,
    EVENT_LOG,
    LEASES,
    SUBSCRIPTIONS,
    SYSTEM_COLLECTIONS,
)

# Column → path in a raw change event (None: not part of the event).
LIVE_PATHS: dict[str, tuple[str, ...] | None] = {
    "event_id": ("_id", "_data"),
    "subscription_id": None,
    "service_name": None,
    "event_type": ("operationType",),
    "collection_name": ("ns", "coll"),
    "database_name": ("ns", "db"),
    "document_key": ("documentKey", "_id"),
    "event_data": ("fullDocument",),
    "full_document_before_change": ("fullDocumentBeforeChange",),
    "updated_fields": ("updateDescription", "updatedFields"),
    "removed_fields": ("updateDescription", "removedFields"),
    "event_timestamp": ("wallTime",),
    "resume_token": ("_id",),
    "resume_token_timestamp": ("clusterTime",),
    "processing_status": None,
    "processing_started_at": None,
    "processing_completed_at": None,
    "processing_duration_ms": None,
    "retry_count": None,
    "correlation_id": None,
    "business_process_id": None,
    "source_service": None,
    "target_service": None,
    "interaction_type": None,
}

EVENT_COLUMNS = list(LIVE_PATHS)

# Business columns come from fields of the changed document named by subscription options.
BUSINESS_COLUMNS = (
    "correlation_id",
    "business_process_id",
    "source_service",
    "target_service",
    "interaction_type",
)


def live_path(column: str, constants: dict[str, Any] | None = None) -> tuple[str, ...] | None:
    """The event path a live column reads, or None when the column is a constant (NULL in
    live rows, or a subscription's own value given in `constants`)."""
    return LIVE_PATHS.get(column)


def utc_now() -> dt.datetime:
    """Now, in UTC, at BSON's millisecond precision (the timestamps of the system collections)."""
    now = dt.datetime.now(dt.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
