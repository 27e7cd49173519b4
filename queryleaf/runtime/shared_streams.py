"""Shared change streams: the subscriptions one runtime runs on a database read one
server-side change stream per fullDocument setting instead of one each, and the events are
fanned out in-process (queryleaf.runtime.event_routes decides who gets what).

Every member keeps its own position: `after`, the resume token of the last event routed to it
(or the stream position it was last told about). The stream opens after the oldest member
position, and an event at or before a member's position is not routed to it again, so members
that joined at different points each continue exactly where they were. A join or leave
reopens the stream with the new `$match`, from the oldest position.

Tokens are compared as strings: MongoDB's resume tokens are KeyString-encoded, so their hex
`_data` sorts in stream order (the embedded engine's tokens are built to do the same).

A member whose runner falls QUEUE_LIMIT events behind is detached: it drains what it has and
continues on a private stream from its own resume token, so one slow or retrying subscription
never holds up the others for long."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from typing import Any

from bson import json_util
from pymongo.errors import OperationFailure, PyMongoError

from queryleaf.runtime.active_streams import StreamRegistration
from queryleaf.runtime.event_routes import Route
from queryleaf.runtime.event_sources import Read
from queryleaf.subscriptions.compile_stream import StreamPlan

POLL_MS = 100
QUEUE_LIMIT = 10_000  # routed events a member may have waiting before it is detached
REOPEN_SECONDS = 1.0
POSITION_SECONDS = 1.0  # how often members a busy stream has nothing for hear its position
LEAVE_SECONDS = 2.0  # at most a poll and a registration write, normally
REOPEN_MAX_SECONDS = 30.0
# Errors reopening cannot fix; at open they belong to the members whose position was used.
FATAL_CODES = frozenset({286, 260, 280, 10334})
DOCUMENT_EVENTS = frozenset({"insert", "update", "replace", "delete"})


class Member:
    """One subscription's share of a SharedStream: a queue its runner reads."""

    kind = "shared"

    def __init__(self, stream: SharedStream, name: str, route: Route, after: str) -> None:
        self.stream, self.name, self.route = stream, name, route
        self.after = after  # written by the stream's thread only, once joined
        self.group = 0  # which of the stream's conditions is this member's
        self._items: deque[tuple[str, Any]] = deque()
        self._events = 0
        self._ready = threading.Condition()
        self.closed = False
        # Set once a stream that includes this member is open and registered (or failed), so
        # START returns when ACTIVE_CHANGE_STREAMS() and EVENT_SUBSCRIPTIONS() show it running.
        self.opened = threading.Event()

    # --- the stream's side ---------------------------------------------------------------------

    def push(self, kind: str, value: Any) -> bool:
        """Queue an event or a marker; False when the member fell too far behind (detached)."""
        with self._ready:
            if kind == "event":
                if self._events >= QUEUE_LIMIT:
                    self._items.append(("detached", None))
                    self._ready.notify()
                    return False
                self._events += 1
            elif kind == "position" and self._items and self._items[-1][0] == "position":
                self._items.pop()  # only the newest idle position matters
            self._items.append((kind, value))
            self._ready.notify()
        return True

    # --- the runner's side ---------------------------------------------------------------------

    def read(self, limit: int, timeout: float) -> Read:
        with self._ready:
            if not self._items:
                self._ready.wait(timeout)
            read = Read()
            while self._items and len(read.events) < limit:
                kind, value = self._items[0]
                if kind == "event":
                    self._items.popleft()
                    self._events -= 1
                    read.events.append(value)
                    continue
                if read.events:
                    break  # markers apply after the events before them are settled
                self._items.popleft()
                if kind == "position":
                    read.position = value
                    continue
                if kind == "invalidated":
                    read.position, read.invalidated = value, True
                elif kind == "detached":
                    read.detached = True
                elif kind == "error":
                    read.error = value
                break
            return read

    def close(self) -> None:
        self.closed = True
        self.stream.leave(self)


class SharedStream:
    """One database change stream read by a thread of its own for several members."""

    def __init__(self, db: Any, options: dict[str, Any]) -> None:
        # fullDocument; an optional pre-image is asked for while some member wants one (the
        # others do not see it).
        self.db, self.options = db, options
        self._lock = threading.Lock()
        self._members: dict[str, Member] = {}
        self._changed = True
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None  # None once the thread decided to end
        self._marked = 0.0  # when quiet members were last told the stream's position

    def join(self, name: str, plan: StreamPlan, token: dict[str, Any]) -> Member:
        # Tokens compare as upper-case hex strings, as MongoDB writes them.
        member = Member(self, name, Route(plan), str(token["_data"]).upper())
        with self._lock:
            self._members[name] = member
            self._changed = True
            # A thread told to stop but not yet gone sees the cleared flag and goes on; one
            # that already gave up (None) is replaced.
            self._stop.clear()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="queryleaf-shared-stream", daemon=True
                )
                self._thread.start()
        return member

    def leave(self, member: Member) -> None:
        """Remove a member; the last one to leave waits for the stream to close, so that
        ACTIVE_CHANGE_STREAMS() no longer lists it once its runner has stopped."""
        with self._lock:
            if self._members.get(member.name) is member:
                del self._members[member.name]
                self._changed = True
            thread = self._thread if not self._members else None
        if thread is not None and thread is not threading.current_thread():
            thread.join(LEAVE_SECONDS)

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._members)

    def stop(self, timeout: float = 5.0) -> None:
        with self._lock:
            thread = self._thread
            self._stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    # --- the stream's thread -------------------------------------------------------------------

    def _members_now(self) -> tuple[list[Member], bool] | None:
        """The members and whether they changed; None (and the thread ends) when none are
        left or the stream is stopped."""
        with self._lock:
            if not self._members or self._stop.is_set():
                self._thread = None
                return None
            changed, self._changed = self._changed, False
            return list(self._members.values()), changed

    def _run(self) -> None:
        cursor: Any = None
        registration: StreamRegistration | None = None
        failures = 0
        try:
            while (current := self._members_now()) is not None:
                members, changed = current
                opening = changed or cursor is None
                try:
                    if opening:
                        if cursor is not None:
                            cursor.close()
                            cursor = None
                        if registration is not None:
                            registration.close()
                            registration = None
                        cursor, registration = self._open(members)
                        opening = False
                        for member in members:
                            member.opened.set()
                    event = cursor.try_next()
                    if event is None:
                        registration.beat()
                        self._idle(members, cursor)
                        if not cursor.alive:
                            cursor = None  # invalidated (dropDatabase): reopen after it
                    else:
                        registration.beat(1)
                        self._route(event, members)
                    failures = 0
                except OperationFailure as error:
                    cursor = None
                    for member in members:
                        member.opened.set()  # its runner hears of the failure from its queue
                    if error.code in FATAL_CODES:
                        self._fail(members, error, opening)
                        continue
                    failures = self._back_off(members, error, failures)
                except Exception as error:  # network or server trouble: reopen from positions
                    cursor = None
                    for member in members:
                        member.opened.set()
                    failures = self._back_off(members, error, failures)
        finally:
            with self._lock:
                if self._thread is threading.current_thread():
                    self._thread = None  # whatever ended it, the next join starts a new one
            if cursor is not None:
                cursor.close()
            if registration is not None:
                # The client may have been closed at shutdown before this thread ended.
                with contextlib.suppress(PyMongoError):
                    registration.close()

    def _open(self, members: list[Member]) -> tuple[Any, StreamRegistration]:
        conditions: dict[str, dict[str, Any]] = {}  # by their Extended JSON: order matters
        groups: list[str] = []
        for member in members:
            for condition in member.route.conditions():
                conditions.setdefault(json_util.dumps(condition), condition)
            # Members with equal conditions (and pre-image wishes) share one evaluation.
            group = json_util.dumps([member.route.condition, member.route.pre_image])
            if group not in groups:
                groups.append(group)
            member.group = groups.index(group)
        listed = list(conditions.values())
        match = listed[0] if len(listed) == 1 else {"$or": listed}
        oldest = min(member.after for member in members)
        kwargs: dict[str, Any] = {
            "pipeline": [{"$match": match}],
            "start_after": {"_data": oldest},
            "max_await_time_ms": POLL_MS,
        }
        options = dict(self.options)
        if any(m.route.pre_image for m in members):
            options["fullDocumentBeforeChange"] = "whenAvailable"
        if "fullDocument" in options:
            kwargs["full_document"] = options["fullDocument"]
        if "fullDocumentBeforeChange" in options:
            kwargs["full_document_before_change"] = options["fullDocumentBeforeChange"]
        cursor = self.db.watch(**kwargs)
        try:
            plan = StreamPlan(None, kwargs["pipeline"], options)
            registration = StreamRegistration(self.db, plan, "shared", [m.name for m in members])
            registration.open()
        except BaseException:
            cursor.close()
            raise
        return cursor, registration

    def _route(self, event: dict[str, Any], members: list[Member]) -> None:
        data = event["_id"]["_data"]
        # Alone on the stream, a member wants every document event the server sent.
        alone = len(members) == 1 and event.get("operationType") in DOCUMENT_EVENTS
        verdicts: dict[int, bool] = {}
        quiet: list[Member] = []
        for member in members:
            if member.closed or data <= member.after:
                continue  # closed, or already routed to it before a reopen
            member.after = data
            own = event if member.route.pre_image else without_pre_image(event)
            wanted = verdicts.get(member.group)
            if wanted is None:
                try:
                    wanted = alone or member.route.wants(own)
                except Exception as error:  # a condition the matcher cannot evaluate
                    self._detach(member)
                    member.push("detached", error)
                    continue
                verdicts[member.group] = wanted
            # Members share the event: targets only read it (handlers get a copy).
            if wanted and not member.push("event", own):
                self._detach(member)
                continue
            if member.route.ends(event):
                member.push("invalidated", {"_data": data})
            elif not wanted:
                quiet.append(member)
        now = time.monotonic()
        if quiet and now - self._marked >= POSITION_SECONDS:
            # Members that want none of a busy stream's events still move on (their saved
            # token stays fresh), as a stream of their own would on its idle polls.
            self._marked = now
            for member in quiet:
                member.push("position", {"_data": member.after})

    def _idle(self, members: list[Member], cursor: Any) -> None:
        token = cursor.resume_token
        if token is None:
            return
        data = token["_data"]
        for member in members:
            if member.closed or data <= member.after:
                continue
            member.after = data
            if not cursor.alive and member.route.collection is None:
                member.push("invalidated", {"_data": data})  # the database was dropped
            else:
                member.push("position", {"_data": data})

    def _detach(self, member: Member) -> None:
        with self._lock:
            if self._members.get(member.name) is member:
                del self._members[member.name]
                self._changed = True

    def _fail(self, members: list[Member], error: OperationFailure, opening: bool) -> None:
        """A fatal error at open belongs to the members whose position opened the stream (a
        lost or refused token); later, to every member. They leave and handle it by their
        own policies (on_history_lost ...)."""
        culprits = members
        if opening:
            oldest = min(member.after for member in members)
            culprits = [member for member in members if member.after == oldest]
        for member in culprits:
            self._detach(member)
            member.push("error", error)

    def _back_off(self, members: list[Member], error: BaseException, failures: int) -> int:
        """A resumable failure: members hear of it (their last_error), the stream reopens from
        their positions after a backoff that doubles up to REOPEN_MAX_SECONDS."""
        failures += 1
        for member in members:
            member.push("error", error)
        self._stop.wait(min(REOPEN_SECONDS * 2 ** (failures - 1), REOPEN_MAX_SECONDS))
        with self._lock:
            self._changed = True
        return failures


def without_pre_image(event: dict[str, Any]) -> dict[str, Any]:
    """The event as a stream without pre-images delivers it."""
    if "fullDocumentBeforeChange" not in event:
        return event
    return {k: v for k, v in event.items() if k != "fullDocumentBeforeChange"}


class StreamHub:
    """The shared streams of one runtime, one per database and fullDocument setting."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._streams: dict[tuple[tuple[str, Any], ...], SharedStream] = {}

    def join(self, name: str, plan: StreamPlan, token: dict[str, Any]) -> Member:
        # One stream per fullDocument mode; pre-images ('whenAvailable', the only shareable
        # mode) are asked for while a member wants them.
        options = {key: value for key, value in plan.options.items() if key == "fullDocument"}
        key = tuple(sorted(options.items()))
        with self._lock:
            stream = self._streams.get(key)
            if stream is None:
                stream = SharedStream(self.db, options)
                self._streams[key] = stream
            return stream.join(name, plan, token)

    def streams(self) -> list[SharedStream]:
        with self._lock:
            return list(self._streams.values())

    def close(self, timeout: float = 5.0) -> None:
        """Stop every stream, waiting `timeout` seconds in all."""
        deadline = time.monotonic() + timeout
        for stream in self.streams():
            stream.stop(max(0.0, deadline - time.monotonic()))
