"""Running a live query: open the change stream, turn events into rows as they arrive, stop
after LIMIT rows or the timeout, and keep the stream visible in ACTIVE_CHANGE_STREAMS()."""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

from queryleaf.execute.rows import read_path
from queryleaf.streams.event_columns import ACTIVE_STREAMS
from queryleaf.streams.live import LivePlan

POLL_MS = 200
HEARTBEAT_EVERY = 10.0  # seconds between heartbeats of an open stream


def live_rows(plan: LivePlan, db: Any, timeout: float | None = None) -> Iterator[dict[str, Any]]:
    """Rows of a live query, as events happen."""
    stream_plan = plan.stream
    target = db if stream_plan.collection is None else db[stream_plan.collection]
    deadline = time.monotonic() + timeout if timeout is not None else None
    wait_ms = POLL_MS if deadline is None else max(1, min(POLL_MS, int(timeout * 1000)))
    registry = _Registration(db, plan)
    cursor = target.watch(**stream_plan.watch_kwargs(), max_await_time_ms=wait_ms)
    registry.open()
    delivered = 0
    try:
        while plan.limit is None or delivered < plan.limit:
            if deadline is not None and time.monotonic() >= deadline:
                return
            event = cursor.try_next()
            registry.beat(seen=0)
            if event is None:
                continue
            registry.beat(seen=1)
            delivered += 1
            yield {column.label: read_path(event, column.path) for column in plan.columns}
    finally:
        cursor.close()
        registry.close()


class _Registration:
    """The open stream's row in active_change_streams, kept fresh by heartbeats."""

    def __init__(self, db: Any, plan: LivePlan) -> None:
        self.collection = db[ACTIVE_STREAMS]
        self.id = uuid.uuid4().hex
        self.plan = plan
        self.seen = 0
        self.last_beat = 0.0

    def open(self) -> None:
        from bson import json_util

        from queryleaf.plan.plans import EXTENDED_JSON

        now = _now()
        stream = self.plan.stream
        self.collection.insert_one(
            {
                "_id": self.id,
                "stream_id": self.id,
                "kind": "live_query",
                "target": stream.collection or "*",
                "watched_collections": stream.watched,
                "pipeline": json_util.dumps(stream.pipeline, json_options=EXTENDED_JSON),
                "subscriptions": [],
                "opened_at": now,
                "heartbeat_at": now,
                "events_seen": 0,
                "owner": f"{socket.gethostname()}:{os.getpid()}",
            }
        )
        self.last_beat = time.monotonic()

    def beat(self, seen: int) -> None:
        self.seen += seen
        if time.monotonic() - self.last_beat < HEARTBEAT_EVERY:
            return
        self.last_beat = time.monotonic()
        self.collection.update_one(
            {"_id": self.id}, {"$set": {"heartbeat_at": _now(), "events_seen": self.seen}}
        )

    def close(self) -> None:
        self.collection.delete_one({"_id": self.id})


def _now() -> dt.datetime:
    now = dt.datetime.now(dt.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
