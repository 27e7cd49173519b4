"""Server-side cursors: find/aggregate results handed out in batches, and change streams.

A query's results are computed whole under the engine lock when the command runs (so no batch
ever sees a collection mid-write) and then handed out by getMore without the lock. Change
stream cursors hold the embedded engine's ChangeStream. Cursors idle for longer than the
timeout (MongoDB's default: 10 minutes) are closed by `reap()`.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import bson
from bson.raw_bson import RawBSONDocument

from .wire import ENCODE_OPTIONS

IDLE_TIMEOUT = 600.0
BATCH_BYTES = 16 * 1024 * 1024  # a batch stops once it would pass this size
DEFAULT_FIRST_BATCH = 101


def encode(document: Any) -> RawBSONDocument:
    return RawBSONDocument(bson.encode(document, codec_options=ENCODE_OPTIONS))


@dataclass
class QueryCursor:
    ns: str
    documents: list[Any]
    position: int = 0
    id: int = 0
    last_used: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def batch(self, size: int | None) -> list[RawBSONDocument]:
        """Up to `size` documents (None or 0: as many as fit in a batch), encoded."""
        out: list[RawBSONDocument] = []
        total = 0
        limit = size or len(self.documents)
        while self.position < len(self.documents) and len(out) < limit:
            document = self.documents[self.position]
            raw = document if isinstance(document, RawBSONDocument) else encode(document)
            if out and total + len(raw.raw) > BATCH_BYTES:
                break
            out.append(raw)
            total += len(raw.raw)
            self.documents[self.position] = None  # handed out: let it go
            self.position += 1
        return out

    @property
    def exhausted(self) -> bool:
        return self.position >= len(self.documents)

    def close(self) -> None:
        self.documents = []
        self.position = 0


@dataclass
class StreamCursor:
    ns: str
    stream: Any  # queryleaf.engines.embedded.change_streams.ChangeStream
    id: int = 0
    last_used: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def close(self) -> None:
        self.stream.close()


Cursor = QueryCursor | StreamCursor


class CursorRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cursors: dict[int, Cursor] = {}

    def add(self, cursor: Cursor) -> int:
        with self._lock:
            while True:
                cursor_id = secrets.randbits(62) + 1
                if cursor_id not in self._cursors:
                    break
            cursor.id = cursor_id
            self._cursors[cursor_id] = cursor
            return cursor_id

    def get(self, cursor_id: int) -> Cursor | None:
        with self._lock:
            cursor = self._cursors.get(cursor_id)
            if cursor is not None:
                cursor.last_used = time.monotonic()
            return cursor

    def remove(self, cursor_id: int) -> bool:
        with self._lock:
            cursor = self._cursors.pop(cursor_id, None)
        if cursor is None:
            return False
        cursor.close()
        return True

    def __len__(self) -> int:
        return len(self._cursors)

    def reap(self, timeout: float = IDLE_TIMEOUT) -> int:
        """Close cursors idle for longer than `timeout` seconds; returns how many."""
        now = time.monotonic()
        with self._lock:
            idle = [c for c in self._cursors.values() if now - c.last_used > timeout]
            for cursor in idle:
                self._cursors.pop(cursor.id, None)
        for cursor in idle:
            cursor.close()
        return len(idle)

    def close_all(self) -> None:
        with self._lock:
            cursors = list(self._cursors.values())
            self._cursors.clear()
        for cursor in cursors:
            cursor.close()
