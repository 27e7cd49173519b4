"""The ChangeStream object `watch()` returns: pymongo's ChangeStream API over the journal.

A stream is a position in the journal plus a scope (collection, database or cluster). Reading
builds each visible change's event for this stream's options, runs the user's stages on it and
hands it out; a drop/rename (collection scope) or dropDatabase (database scope) is followed by an
invalidate, after which the stream is dead, as a server cursor is after an invalidate.
Errors the server raises on getMore (a changed _id, a missing required image, history lost)
close the stream, as pymongo closes it after a non-resumable error.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bson import Timestamp
from mongomock_ng import OperationFailure

from . import events, tokens
from .events import Change
from .journal import SKIPPED, Journal, history_lost
from .pipeline import check as check_pipeline
from .pipeline import match_only, namespace_test
from .pipeline import run as run_pipeline

_INTERNAL_DATABASES = frozenset({"admin", "config", "local"})
_READ_BATCH = 64  # changes examined per journal read
_DEFAULT_AWAIT_MS = 1000  # the server's default maxAwaitTimeMS for a change stream getMore


@dataclass(frozen=True)
class Scope:
    """What a stream watches: a collection (db and coll), a database (db) or everything."""

    db: str | None = None
    coll: str | None = None

    def sees(self, change: Change) -> bool:
        if self.coll is not None:
            if change.db != self.db:
                return False
            if change.coll == self.coll:
                return change.op != events.DROP_DATABASE
            # Renaming another collection onto the watched one also ends its stream.
            return change.op == events.RENAME and change.to == (self.db, self.coll)
        if change.coll is not None and change.coll.startswith("system."):
            return False
        if self.db is not None:
            return change.db == self.db
        return change.db not in _INTERNAL_DATABASES

    def invalidated_by(self, change: Change) -> bool:
        if self.coll is not None:
            return change.op in (events.DROP, events.RENAME)
        if self.db is not None:
            return change.op == events.DROP_DATABASE
        return False


class ChangeStream:
    """A change stream cursor (see pymongo.change_stream.ChangeStream)."""

    def __init__(
        self,
        journal: Journal,
        scope: Scope,
        *,
        database: Any,
        lookup: events.Lookup,
        tz_aware: bool,
        pipeline: Any = None,
        full_document: str | None = None,
        full_document_before_change: str | None = None,
        resume_after: Mapping[str, Any] | None = None,
        start_after: Mapping[str, Any] | None = None,
        start_at_operation_time: Timestamp | None = None,
        max_await_time_ms: int | None = None,
        batch_size: int | None = None,
    ) -> None:
        if scope.db in _INTERNAL_DATABASES:
            raise OperationFailure(
                f"$changeStream may not be opened on the internal {scope.db} database", code=73
            )
        self._full_document = _choice("fullDocument", full_document, events.FULL_DOCUMENT_MODES)
        self._before_change = _choice(
            "fullDocumentBeforeChange", full_document_before_change, events.BEFORE_CHANGE_MODES
        )
        self._pipeline = check_pipeline(pipeline)
        self._namespaces = namespace_test(self._pipeline)
        self._matches = match_only(self._pipeline)
        self._journal, self._scope = journal, scope
        self._database, self._lookup, self._tz_aware = database, lookup, tz_aware
        self._await = (_DEFAULT_AWAIT_MS if max_await_time_ms is None else max_await_time_ms) / 1000
        self._batch = max(1, min(batch_size or _READ_BATCH, _READ_BATCH))
        self._ready: deque[dict[str, Any]] = deque()
        self._closed = False
        self._ended = False  # invalidated: nothing more to read
        self._stop = threading.Event()
        self._min_time: tuple[int, int] | None = None
        self._resume_token: dict[str, Any] | None = None
        # Attached first: a write racing with the start must not be left unrecorded.
        journal.attach(self)
        try:
            self._start(resume_after, start_after, start_at_operation_time)
        except BaseException:
            journal.detach(self)
            raise

    def _start(
        self,
        resume_after: Mapping[str, Any] | None,
        start_after: Mapping[str, Any] | None,
        start_at: Timestamp | None,
    ) -> None:
        # Like pymongo: a token wins over a time, startAfter over resumeAfter.
        token = start_after if start_after is not None else resume_after
        if token is not None:
            where = tokens.decode(token)
            if where.kind == tokens.INVALIDATE and start_after is None:
                raise OperationFailure(
                    "Attempting to resume a change stream using 'resumeAfter' is not allowed "
                    "from an invalidate notification.",
                    code=260,  # InvalidResumeToken
                )
            self._journal.check_resumable(where.seq)
            self._pos, self._pos_time = where.seq, where.time
            self._resume_token = {"_data": token["_data"]}
            named = where.kind != tokens.HIGH_WATER_MARK
            change = self._journal.change(where.seq) if named else None
            if change is not None and change.time != where.time:
                # A token of another journal (another client), or a forged one.
                raise OperationFailure(
                    f"cannot resume stream; the resume token was not found. {dict(token)}",
                    code=280,  # ChangeStreamFatalError
                )
            if (
                where.kind == tokens.EVENT
                and change is not None
                and self._scope.sees(change)
                and self._scope.invalidated_by(change)
            ):
                self._invalidate(change)  # resuming after a drop: its invalidate is next
            return
        if start_at is not None:
            if not isinstance(start_at, Timestamp):
                raise OperationFailure(
                    "BSON field '$changeStream.startAtOperationTime' is the wrong type, expected "
                    "type 'timestamp'",
                    code=14,
                )
            when = (start_at.time, start_at.inc)
            self._pos, self._pos_time = self._journal.seq_before(when)
            self._min_time = when  # a future time: skip what happens before it
        else:
            self._pos, self._pos_time = self._journal.end()
        # The initial aggregate's postBatchResumeToken, when its first batch is empty.
        if self._journal.end()[0] <= self._pos:
            self._resume_token = self._high_water_mark()

    # --- pymongo's API -------------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return not self._closed

    @property
    def resume_token(self) -> dict[str, Any] | None:
        return None if self._resume_token is None else dict(self._resume_token)

    def next(self) -> dict[str, Any]:
        """The next event, blocking until there is one; StopIteration once the stream is dead."""
        while self.alive:
            event = self._advance(None)
            if event is not None:
                return event
        raise StopIteration

    __next__ = next

    def try_next(self) -> dict[str, Any] | None:
        """The next event, or None if none arrives within max_await_time_ms."""
        if not self.alive:
            return None
        return self._advance(self._await)

    def close(self) -> None:
        self._closed = True
        self._stop.set()
        self._journal.detach(self)
        self._journal.wake()  # a next() blocked in another thread returns

    def __iter__(self) -> ChangeStream:
        return self

    def __enter__(self) -> ChangeStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- reading -------------------------------------------------------------------------------

    def _advance(self, timeout: float | None) -> dict[str, Any] | None:
        try:
            return self._read(timeout)
        except BaseException:
            self.close()
            raise

    def _read(self, timeout: float | None) -> dict[str, Any] | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self._ready:
                return self._deliver(self._ready.popleft())
            if self._closed:
                return None
            if self._ended:
                self.close()  # the invalidate (even filtered out) ended the stream
                return None
            changes = self._journal.read(self._pos, self._batch)
            if not changes:
                remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
                if not self._journal.wait(self._pos, remaining, self._stop):
                    if not self._closed:
                        self._resume_token = self._high_water_mark()
                    return None
                continue
            for change in changes:
                self._pos, self._pos_time = change.seq, change.time
                self._consume(change)
                if self._ready or self._ended:
                    break

    def could_see(self, change: Change) -> bool:
        """Whether a change to its collection could reach this stream (its scope, and the
        collection names its first $match allows)."""
        if not self._scope.sees(change):
            return False
        return (
            self._namespaces is None or change.coll is None or self._namespaces(change.coll, None)
        )

    def _consume(self, change: Change) -> None:
        if self._min_time is not None and change.time < self._min_time:
            return
        if change.op == SKIPPED:
            if self.could_see(change):
                raise history_lost()  # a write it would have seen was not recorded
            return
        if not self._scope.sees(change):
            return
        # A change the $match's namespace condition refuses needs no event (the invalidate
        # it may cause is still emitted).
        target = change.to[1] if change.to is not None else None
        if self._namespaces is None or change.coll is None or self._namespaces(change.coll, target):
            event = events.event_document(
                change, self._full_document, self._before_change, self._lookup
            )
            self._emit(event)
        if self._scope.invalidated_by(change):
            self._invalidate(change)

    def _invalidate(self, change: Change) -> None:
        event = events.invalidate_document(change)
        self._ended = True
        if not self._emit(event):
            # Filtered out by the user's stages, the stream still ends, and the invalidate's
            # token is the last resume token (a startAfter continues from it).
            self._resume_token = event["_id"]

    def _emit(self, event: dict[str, Any]) -> bool:
        if self._matches is not None:
            if not self._matches(event):
                return False
            self._ready.append(events.export(event, self._tz_aware))
            return True
        if self._pipeline:
            event = events.clone(event)
        output = run_pipeline(self._pipeline, event, self._database)
        if output is None:
            return False
        self._ready.append(events.export(output, self._tz_aware))
        return True

    def _deliver(self, event: dict[str, Any]) -> dict[str, Any]:
        self._resume_token = dict(event["_id"])  # {"_data": str}: checked by the pipeline run
        if self._ended and not self._ready:
            self.close()  # the invalidate was the last event: alive is False once it is out
        return event

    def _high_water_mark(self) -> dict[str, str]:
        return tokens.encode(self._pos_time, self._pos, tokens.HIGH_WATER_MARK)


def _choice(field: str, value: str | None, allowed: tuple[str, ...]) -> str:
    if value is None:
        return allowed[0]
    if not isinstance(value, str):
        raise TypeError(f"{field} must be an instance of str")
    if value not in allowed:
        raise OperationFailure(
            f"Enumeration value '{value}' for field '$changeStream.{field}' is not a valid value.",
            code=2,  # BadValue
        )
    return value
