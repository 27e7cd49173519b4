"""Writing a generated workload to a database, one change at a time, in commit order."""

from __future__ import annotations

import time
from typing import Any

from examples.microservices.dataset import COLLECTIONS, Change, Workload


def prepare(db: Any) -> None:
    """Create the six collections with pre-images on, so delete events carry the deleted
    document (the subscriptions ask for them with full_document_before_change)."""
    existing = set(db.list_collection_names())
    for name in COLLECTIONS:
        if name not in existing:
            db.create_collection(name, changeStreamPreAndPostImages={"enabled": True})


def apply(db: Any, workload: Workload, pause: float = 0.002) -> None:
    """Write every change. `pause` keeps consecutive commits in distinct milliseconds, so
    ORDER BY event_timestamp (a millisecond date) reproduces commit order."""
    for change in workload.changes:
        write(db, change)
        if pause:
            time.sleep(pause)


def write(db: Any, change: Change) -> None:
    collection = db[change.collection]
    if change.kind == "insert":
        collection.insert_one(dict(change.document or {}))
    elif change.kind == "update":
        done = collection.update_one({"_id": change.key}, change.update or {}).modified_count
    else:
        done = collection.delete_one({"_id": change.key}).deleted_count
    if change.kind != "insert" and done != 1:  # a no-op would emit no event: the plan is off
        raise RuntimeError(f"change {change.seq} ({change.kind} {change.key}) changed nothing")
