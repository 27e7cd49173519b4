"""Open change streams announce themselves in `active_change_streams` (read by
ACTIVE_CHANGE_STREAMS()), so a shell sees what a worker in another process has open. A row
carries a heartbeat; rows whose owner stopped beating drop out of the table function."""

from __future__ import annotations

import os
import socket
import time
import uuid
from typing import Any

from bson import json_util

from queryleaf.plan.plans import EXTENDED_JSON
from queryleaf.subscriptions.event_columns import ACTIVE_STREAMS, utc_now

HEARTBEAT_SECONDS = 10.0  # well inside table_functions.HEARTBEAT_SECONDS


class StreamRegistration:
    """One open stream's row: `open()` it once the stream is open, `beat()` on every poll
    (writes at most every HEARTBEAT_SECONDS), `close()` when it ends."""

    def __init__(self, db: Any, stream: Any, kind: str, subscriptions: list[str]) -> None:
        self.collection = db[ACTIVE_STREAMS]
        self.id = uuid.uuid4().hex
        self.stream = stream
        self.kind = kind
        self.subscriptions = subscriptions
        self.seen = 0
        self.last_beat = 0.0

    def open(self) -> None:
        now = utc_now()
        self.collection.insert_one(
            {
                "_id": self.id,
                "stream_id": self.id,
                "kind": self.kind,
                "target": self.stream.collection or "*",
                "watched_collections": self.stream.watched,
                "pipeline": json_util.dumps(self.stream.pipeline, json_options=EXTENDED_JSON),
                "subscriptions": list(self.subscriptions),
                "opened_at": now,
                "heartbeat_at": now,
                "events_seen": 0,
                "owner": f"{socket.gethostname()}:{os.getpid()}",
            }
        )
        self.last_beat = time.monotonic()

    def beat(self, seen: int = 0) -> None:
        self.seen += seen
        if time.monotonic() - self.last_beat < HEARTBEAT_SECONDS:
            return
        self.last_beat = time.monotonic()
        self.collection.update_one(
            {"_id": self.id}, {"$set": {"heartbeat_at": utc_now(), "events_seen": self.seen}}
        )

    def close(self) -> None:
        self.collection.delete_one({"_id": self.id})
