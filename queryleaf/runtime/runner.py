"""One subscription's loop: open its events (from a shared stream or its own, resuming from
the stored token), read them a window at a time and hand each window to WindowCommits
(queryleaf.runtime.window_commits) to deliver and commit; handle stream errors, invalidation,
redefinition and leases. Idle polls persist the moving stream position."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from typing import Any

from pymongo.errors import OperationFailure

from queryleaf.runtime.active_streams import StreamRegistration
from queryleaf.runtime.event_routes import shareable
from queryleaf.runtime.event_sources import EventSource, PrivateSource, Read
from queryleaf.runtime.leases import Leases
from queryleaf.runtime.shared_streams import StreamHub
from queryleaf.runtime.targets import make_target
from queryleaf.runtime.window_commits import LATENCY_WINDOW, SLOW_WINDOWS, Job, WindowCommits
from queryleaf.subscriptions.compile_stream import StreamPlan, compile_subscription
from queryleaf.subscriptions.event_columns import SUBSCRIPTIONS, utc_now
from queryleaf.subscriptions.statements import stored_options

POLL_MS = 100  # longest wait for an event before the loop checks whether it should stop
IDLE_SAVE_SECONDS = 1.0  # idle polls persist the (moving) resume token at most this often
REOPEN_SECONDS = 1.0  # first wait before reopening a stream that failed
REOPEN_MAX_SECONDS = 30.0
JOIN_WAIT_SECONDS = 5.0  # how long START waits for a shared stream to take a new member in
STATUS_CHECK_SECONDS = 1.0  # how often a runner rereads its subscription's status
# Errors no reopen can fix: the subscription's status says so (never skipped silently).
FATAL_CODES = {
    286: "history lost (the resume token is older than the oplog)",
    260: "invalid resume token",
    280: "change stream fatal error",
    10334: "an event is larger than 16 MB (BSONObjectTooLarge); project fewer fields or "
    "end the pipeline with $changeStreamSplitLargeEvent",
}


class SubscriptionRunner(WindowCommits):
    """Runs one stored subscription until `stop()`; `run()` is the thread body."""

    def __init__(
        self, conn: Any, name: str, streams: StreamHub | None = None, leases: Leases | None = None
    ) -> None:
        self.conn, self.db, self.name = conn, conn.db, name
        self.leases = leases  # with leases, commits are fenced by the holder's stamp
        self.streams = streams  # the runtime's shared streams; None: always a private stream
        self._private_only = False  # set once detached from a shared stream
        self.stop_event = threading.Event()
        # Set once the first stream is open (writes after it are delivered), or it failed.
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self._ttl_ready = False
        self._log_ttl_ready = False
        self._last_check = time.monotonic()
        self._latency: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self._latency_order: list[float] = []
        # The event log and dead letters are written from delivery threads: one at a time,
        # since an embedded engine is not safe for concurrent writers.
        self._writes = threading.Lock()
        self._last_idle_save = 0.0
        self._saved_token: Any = None
        # The window being delivered: (events, job, when it started); see _mark_processing.
        self._inflight: tuple[list[dict[str, Any]], Job, float] | None = None
        self._opened_at: dict[str, Any] | None = None  # the token the stream started after
        self._marked: object = None  # the window whose processing rows are written
        self._created_at: Any = None  # which definition of the subscription runs here
        self._redefined = False  # a commit found another definition: reopen

    def stop(self) -> None:
        self.stop_event.set()

    def run(self) -> None:
        SLOW_WINDOWS.watch(self)
        try:
            self._run()
        finally:
            SLOW_WINDOWS.forget(self)
            self.ready.set()

    def _run(self) -> None:
        failures = 0
        while not self.stop_event.is_set():
            try:
                self._run_stream()
                failures = 0
            except Exception as error:  # network or server trouble: reopen from the token
                self.ready.set()  # not open, but no longer starting: start() need not wait
                self.error = error
                if self.stop_event.is_set():
                    return  # stopped meanwhile (its connection may be closed): nothing to do
                if isinstance(error, OperationFailure) and error.code in FATAL_CODES:
                    self._fatal(error)
                    failures = 0
                    continue
                failures += 1
                self._note_stream_error(error, failures)

    def _note_stream_error(self, error: BaseException, failures: int) -> None:
        """A resumable failure: record it and reopen from the stored token after a backoff
        that doubles up to REOPEN_MAX_SECONDS."""
        with contextlib.suppress(Exception):  # the database is what failed: a reopen tells
            self._store().update_one(
                {"_id": self.name}, {"$set": {"last_error": f"stream: {error}"}}
            )
        self.stop_event.wait(min(REOPEN_SECONDS * 2 ** (failures - 1), REOPEN_MAX_SECONDS))

    def _fatal(self, error: OperationFailure) -> None:
        """History lost or a token the server refuses: nothing is skipped silently. With
        on_history_lost = 'stop' the subscription fails with the reason; with
        'restart_from_now' it starts again from now and says what it skipped."""
        self.error = error
        reason = FATAL_CODES[error.code]
        subscription = self._store().find_one({"_id": self.name}) or {}
        if subscription.get("on_history_lost") == "restart_from_now":
            skipped_from = subscription.get("resume_token_timestamp")
            self._store().update_one(
                {"_id": self.name},
                {
                    "$set": {
                        "resume_token": None,
                        "status_reason": f"{reason}: restarted from now; events after "
                        f"{skipped_from} were not delivered",
                        "last_error": f"stream: {error}",
                    }
                },
            )
            self._saved_token = None
            return
        self._store().update_one(
            {"_id": self.name},
            {
                "$set": {
                    "status": "failed",
                    "status_reason": f"{reason}: {error}",
                    "last_error": f"stream: {error}",
                }
            },
        )
        self.stop_event.set()

    # --- the stream ---------------------------------------------------------------------------

    def _store(self) -> Any:
        return self.db[SUBSCRIPTIONS]

    def _run_stream(self) -> None:
        subscription = self._store().find_one({"_id": self.name})
        if subscription is None or subscription.get("status") != "active":
            self.stop_event.set()
            return
        options = stored_options(subscription)
        plan = compile_subscription(options, None)
        self._created_at, self._redefined = subscription.get("created_at"), False
        target = make_target(
            options["deliver_to"],
            self.conn,
            options["processing_timeout_ms"],
            bool(options.get("allow_private_network")),
        )
        try:
            source = self._open_source(subscription, plan)
        except BaseException:
            target.close()
            raise
        job = Job(subscription, options, target)
        self.ready.set()
        idle: dict[str, Any] | None = None  # the newest position reached without events
        try:
            while not self.stop_event.is_set():
                if not self._still_current(subscription):
                    return  # dropped, paused or stopped (stop is set), or redefined: reopen
                read = source.read(options["batch_size"], POLL_MS / 1000)
                if read.events and not self._handle(read.events, job):
                    return  # stopped during a retry wait: the rest is delivered again later
                if read.error is not None:
                    if self._shared_error(read.error):
                        return
                    continue
                if read.invalidated:
                    # Save the invalidate's position: a reopen continues after it.
                    self._save_position(read.position, force=True)
                    if self._ended_before(subscription, read, source):
                        return  # restarted where it was invalidated: reopen past it
                    self._invalidated(options, read.position)
                    if source.kind == "private":
                        return
                    continue
                if read.detached:
                    self._private_only = True  # fell behind: continue on a stream of its own
                    return
                if read.events:
                    idle = None
                elif read.position is not None:
                    idle = read.position
                if not read.events and idle is not None:
                    # A shared stream tells a position once; it is saved within a second.
                    self._save_position(idle)
        finally:
            source.close()
            target.close()

    def _open_source(self, subscription: dict[str, Any], plan: StreamPlan) -> EventSource:
        """Join the runtime's shared stream when the subscription can, or open its own; both
        start right after the stored resume token."""
        token = subscription.get("resume_token")
        self._saved_token = token
        self._opened_at = token
        share = self.streams is not None and not self._private_only and shareable(plan)
        if not token and share and not plan.options.get("startAtOperationTime"):
            # A new subscription: record where it starts, so a restart does not skip ahead.
            given = plan.options.get("startAfter")
            if given:
                self._check_token(plan, given)  # refused here as its own stream would be
            token = given or self._starting_token(plan)
        if share and token:
            assert self.streams is not None
            member = self.streams.join(self.name, plan, token)
            deadline = time.monotonic() + JOIN_WAIT_SECONDS
            while not member.opened.wait(0.05) and not self.stop_event.is_set():
                if time.monotonic() >= deadline:
                    break  # it goes on in the background; only the registration is late
            return member
        kwargs = plan.watch_kwargs()
        if token:
            for key in ("start_at_operation_time", "resume_after", "start_after"):
                kwargs.pop(key, None)
            kwargs["start_after"] = token
        source = self.db if plan.collection is None else self.db[plan.collection]
        cursor = source.watch(**kwargs, max_await_time_ms=POLL_MS)
        registration = StreamRegistration(self.db, plan, "subscription", [self.name])
        registration.open()
        if not token:
            self._save_position(cursor.resume_token, force=True)
        return PrivateSource(cursor, registration)

    def _starting_token(self, plan: StreamPlan) -> dict[str, Any] | None:
        """The stream's current position (the postBatchResumeToken of a new, empty stream),
        saved as the subscription's first resume token."""
        kwargs = plan.watch_kwargs()
        source = self.db if plan.collection is None else self.db[plan.collection]
        with source.watch(**kwargs, max_await_time_ms=1) as cursor:
            token = cursor.resume_token
        # None (a first batch that was not empty): the caller opens a stream of its own,
        # which starts where it opens, as a new subscription should.
        self._save_position(token, force=True)
        return token

    def _check_token(self, plan: StreamPlan, token: dict[str, Any]) -> None:
        """Open (and close) a stream after `token`: OperationFailure when the server refuses
        it, which the subscription's policies then handle."""
        kwargs = plan.watch_kwargs()
        kwargs.pop("start_after", None)
        source = self.db if plan.collection is None else self.db[plan.collection]
        source.watch(**kwargs, start_after=token, max_await_time_ms=1).close()

    def _shared_error(self, error: BaseException) -> bool:
        """A shared stream's error, reported to its members: fatal ones (the member left the
        stream) follow the subscription's policies, True to reopen; resumable ones are noted
        while the shared stream reopens by itself."""
        if isinstance(error, OperationFailure) and error.code in FATAL_CODES:
            self._fatal(error)
            return True
        self.error = error
        self._store().update_one({"_id": self.name}, {"$set": {"last_error": f"stream: {error}"}})
        return False

    def _still_current(self, subscription: dict[str, Any]) -> bool:
        """At most once a second: is the stored definition still the one this stream runs?
        DROP, STOP and PAUSE made anywhere (another process included) stop the runner; an
        ALTER (a new updated_at) makes it reopen with the new options."""
        if self._redefined:
            return False
        now = time.monotonic()
        if now - self._last_check < STATUS_CHECK_SECONDS:
            return True
        self._last_check = now
        current = self._store().find_one({"_id": self.name}, {"status": 1, "updated_at": 1})
        if current is None or current.get("status") != "active":
            self.stop_event.set()
            return False
        return current.get("updated_at") == subscription.get("updated_at")

    def _invalidated(self, options: dict[str, Any], position: dict[str, Any] | None) -> None:
        """The watched collection was dropped or renamed. on_invalidate = 'stop' (the
        default) sets status 'invalidated' with the reason (and where: `invalidated_at`);
        'continue' goes on after it."""
        if options.get("on_invalidate") == "continue":
            return
        self._store().update_one(
            {"_id": self.name},
            {
                "$set": {
                    "status": "invalidated",
                    "status_reason": "the change stream was invalidated: a watched collection "
                    "was dropped or renamed (on_invalidate = 'stop')",
                    "invalidated_at": position,
                }
            },
        )
        self.stop_event.set()

    def _ended_before(self, subscription: dict[str, Any], read: Read, source: Any) -> bool:
        """A subscription invalidated on a shared stream saved the drop's own token; its own
        collection stream, started after that token, ends at once on the same drop. That
        invalidate is the old one: its position is saved and the stream reopens past it."""
        return (
            source.kind == "private"
            and not read.events
            and self._opened_at is not None
            and self._opened_at == subscription.get("invalidated_at")
        )

    def _save_position(self, token: dict[str, Any] | None, force: bool = False) -> None:
        """Persist a position reached without events (idle polls, invalidates): at most once
        a second unless forced."""
        if token is None or token == self._saved_token:
            return
        if not force and time.monotonic() - self._last_idle_save < IDLE_SAVE_SECONDS:
            return
        self._last_idle_save = time.monotonic()
        if self._fenced({"$set": {"resume_token": token, "resume_token_timestamp": utc_now()}}):
            self._saved_token = token

    def _fenced(self, update: dict[str, Any]) -> bool:
        """Apply a position/counter update to the subscription document this stream was
        opened for (not one dropped and created again meanwhile); with leases, only while
        this runtime's stamp is on it. A stamp that is gone while the lease is still ours
        (the document was rewritten) is put back; a lease lost to another owner stops this
        runner without writing (its window is delivered again by the new owner)."""
        fence: dict[str, Any] = {"_id": self.name, "created_at": self._created_at}
        if self.leases is not None:
            fence["lease_owner"] = self.leases.owner
        if self._store().update_one(fence, update).matched_count:
            return True
        current = self._store().find_one({"_id": self.name}, {"created_at": 1})
        if current is None or current.get("created_at") != self._created_at:
            self._redefined = True  # dropped, or created again: reopen with what is there
            return False
        if self.leases is not None and self.leases.holder(self.name) == self.leases.owner:
            self.leases.stamp(self.name)
            if self._store().update_one(fence, update).matched_count:
                return True
        self.error = RuntimeError("lease lost: another owner runs this subscription")
        self.stop_event.set()
        return False
