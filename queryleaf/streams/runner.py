"""One subscription's loop: open its change stream (resuming from the stored token), deliver
events one unit at a time in stream order, log each event, dead-letter what exhausts its
retries, and persist the resume token and counters after every unit and on idle polls."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import deque
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pymongo.errors import OperationFailure

from queryleaf.streams.active_streams import StreamRegistration, utc_now
from queryleaf.streams.compile_stream import compile_subscription
from queryleaf.streams.delivery import dead_letter, deliver, ensure_ttl_index
from queryleaf.streams.event_columns import SUBSCRIPTIONS
from queryleaf.streams.event_log import (
    ensure_log_ttl,
    log_finished,
    log_retrying,
    log_started,
    token_time,
)
from queryleaf.streams.subscriptions import stored_options
from queryleaf.streams.targets import make_target

POLL_MS = 100  # longest wait for an event before the loop checks whether it should stop
IDLE_SAVE_SECONDS = 1.0  # idle polls persist the (moving) resume token at most this often
REOPEN_SECONDS = 1.0  # first wait before reopening a stream that failed
REOPEN_MAX_SECONDS = 30.0
LATENCY_WINDOW = 1000  # deliveries the latency percentiles are computed over
MAX_PARALLEL_DELIVERIES = 8
STATUS_CHECK_SECONDS = 1.0  # how often a runner rereads its subscription's status  # without preserve_order: documents delivered at once
# Errors no reopen can fix: the subscription's status says so (never skipped silently).
FATAL_CODES = {
    286: "history lost (the resume token is older than the oplog)",
    260: "invalid resume token",
    280: "change stream fatal error",
}


class SubscriptionRunner:
    """Runs one stored subscription until `stop()`; `run()` is the thread body."""

    def __init__(self, conn: Any, name: str) -> None:
        self.conn, self.db, self.name = conn, conn.db, name
        self.stop_event = threading.Event()
        self.error: BaseException | None = None
        self._ttl_ready = False
        self._log_ttl_ready = False
        self._last_check = time.monotonic()
        self._latency: deque[float] = deque(maxlen=LATENCY_WINDOW)
        # The event log and dead letters are written from delivery threads: one at a time,
        # since an embedded engine is not safe for concurrent writers.
        self._writes = threading.Lock()
        self._last_idle_save = 0.0
        self._saved_token: Any = None

    def stop(self) -> None:
        self.stop_event.set()

    def run(self) -> None:
        failures = 0
        while not self.stop_event.is_set():
            try:
                self._run_stream()
                failures = 0
            except OperationFailure as error:
                if error.code in FATAL_CODES:
                    self._fatal(error)
                    failures = 0
                    continue
                failures += 1
                self._note_stream_error(error, failures)
            except Exception as error:  # network or server trouble: reopen from the token
                failures += 1
                self._note_stream_error(error, failures)

    def _note_stream_error(self, error: BaseException, failures: int) -> None:
        """A resumable failure: record it and reopen from the stored token after a backoff
        that doubles up to REOPEN_MAX_SECONDS."""
        self.error = error
        self._store().update_one({"_id": self.name}, {"$set": {"last_error": f"stream: {error}"}})
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
        kwargs = plan.watch_kwargs()
        token = subscription.get("resume_token")
        if token:
            # A restarted runner continues after the last delivered event (or idle position).
            for key in ("start_at_operation_time", "resume_after", "start_after"):
                kwargs.pop(key, None)
            kwargs["start_after"] = token
        self._saved_token = token
        target = make_target(options["deliver_to"], self.conn, options["processing_timeout_ms"])
        source = self.db if plan.collection is None else self.db[plan.collection]
        cursor = source.watch(**kwargs, max_await_time_ms=POLL_MS)
        registration = StreamRegistration(self.db, plan, "subscription", [subscription["_id"]])
        registration.open()
        try:
            if not token:
                # A new subscription: record where it starts, so a restart does not skip ahead.
                self._save_idle(cursor, force=True)
            while not self.stop_event.is_set():
                if not self._still_current(subscription):
                    return  # dropped, paused or stopped (stop is set), or redefined: reopen
                unit = self._next_unit(cursor, options)
                registration.beat(len(unit))
                if not unit:
                    # Invalidated: save its token now; the next round reopens after it.
                    self._save_idle(cursor, force=not cursor.alive)
                    if not cursor.alive:
                        self._invalidated(options)
                        return
                    continue
                if not self._handle(unit, subscription, options, target):
                    return  # stopped during a retry wait: the unit is delivered again later
        finally:
            cursor.close()
            registration.close()

    def _still_current(self, subscription: dict[str, Any]) -> bool:
        """At most once a second: is the stored definition still the one this stream runs?
        DROP, STOP and PAUSE made anywhere (another process included) stop the runner; an
        ALTER (a new updated_at) makes it reopen with the new options."""
        now = time.monotonic()
        if now - self._last_check < STATUS_CHECK_SECONDS:
            return True
        self._last_check = now
        current = self._store().find_one({"_id": self.name}, {"status": 1, "updated_at": 1})
        if current is None or current.get("status") != "active":
            self.stop_event.set()
            return False
        return current.get("updated_at") == subscription.get("updated_at")

    def _invalidated(self, options: dict[str, Any]) -> None:
        """The watched collection was dropped or renamed. on_invalidate = 'stop' (the
        default) sets status 'invalidated' with the reason; 'continue' reopens after it."""
        if options.get("on_invalidate") == "continue":
            return
        self._store().update_one(
            {"_id": self.name},
            {
                "$set": {
                    "status": "invalidated",
                    "status_reason": "the change stream was invalidated: a watched collection "
                    "was dropped or renamed (on_invalidate = 'stop')",
                }
            },
        )
        self.stop_event.set()

    def _next_unit(self, cursor: Any, options: dict[str, Any]) -> list[dict[str, Any]]:
        event = cursor.try_next()
        if event is None:
            return []
        unit = [event]
        # A batch, or the window of events delivered in parallel without preserve_order.
        if options["batch_processing"] or not options["preserve_order"]:
            while len(unit) < options["batch_size"]:
                more = cursor.try_next()
                if more is None:
                    break
                unit.append(more)
        return unit

    def _handle(
        self,
        unit: list[dict[str, Any]],
        subscription: dict[str, Any],
        options: dict[str, Any],
        target: Any,
    ) -> bool:
        """Deliver a unit and commit it: the resume token moves past it only once every event
        in it is settled (delivered, dead-lettered or skipped). False when a stop came during
        a retry wait: nothing is committed and the unit is delivered again later."""
        if not self._log_ttl_ready:
            ensure_log_ttl(self.db, options["event_log_ttl_days"])
            self._log_ttl_ready = True
        if options["preserve_order"] or options["batch_processing"] or len(unit) == 1:
            settled = [self._settle(unit, subscription, options, target)]
        else:
            # Events of one document stay in order; different documents run in parallel.
            groups: dict[str, list[dict[str, Any]]] = {}
            for event in unit:
                groups.setdefault(repr(event.get("documentKey")), []).append(event)
            workers = min(MAX_PARALLEL_DELIVERIES, len(groups))
            with ThreadPoolExecutor(max_workers=workers) as pool:
                settled = list(
                    pool.map(
                        lambda events: self._settle_in_order(events, subscription, options, target),
                        groups.values(),
                    )
                )
        combined = combine(settled)
        if combined is None:
            return False
        increments, errors = combined
        last = unit[-1]
        update: dict[str, Any] = {
            "resume_token": last["_id"],
            "resume_token_timestamp": token_time(last) or utc_now(),
            "last_event_at": last.get("wallTime") or utc_now(),
        }
        if errors:
            update["last_error"] = errors[-1]
        if increments.get("events_delivered"):
            update.update(self._latencies(unit))
        self._store().update_one({"_id": self.name}, {"$set": update, "$inc": increments})
        self._saved_token = last["_id"]
        return True

    def _settle_in_order(
        self,
        events: list[dict[str, Any]],
        subscription: dict[str, Any],
        options: dict[str, Any],
        target: Any,
    ) -> Settled | None:
        """One document's events, one after the other (a stop ends the run: combine stops
        reading the generator at the first None)."""
        return combine(self._settle([event], subscription, options, target) for event in events)

    def _settle(
        self,
        unit: list[dict[str, Any]],
        subscription: dict[str, Any],
        options: dict[str, Any],
        target: Any,
    ) -> Settled | None:
        """Deliver one unit with retries; log it, dead-letter it when it keeps failing.
        Returns the counter increments and errors, or None when stopped mid-retry."""
        started = utc_now()
        with self._writes:
            for event in unit:
                log_started(self.db, subscription, event, started)

        def retrying(failed: Any) -> None:
            with self._writes:
                log_retrying(self.db, subscription, unit, failed.attempts, failed.error or "")

        outcome = deliver(target, unit, options, self.stop_event, on_retry=retrying)
        if outcome.interrupted:
            return None
        increments = {"events_received": len(unit), "events_retried": outcome.retries}
        with self._writes:
            if outcome.delivered:
                status = "completed"
                increments["events_delivered"] = len(unit)
            elif options["dead_letter_queue_enabled"]:
                status = "dead_letter"
                if not self._ttl_ready:
                    ensure_ttl_index(self.db)
                    self._ttl_ready = True
                for event in unit:
                    dead_letter(self.db, subscription, event, outcome)
                increments["events_dead_lettered"] = len(unit)
            else:
                status = "failed"  # given up without a dead-letter queue: skipped
                increments["events_skipped"] = len(unit)
            log_finished(
                self.db, subscription, unit, status, started, outcome.retries, outcome.error
            )
        return increments, [outcome.error] if outcome.error else []

    def _latencies(self, unit: list[dict[str, Any]]) -> dict[str, Any]:
        """Commit-to-delivery latency percentiles over the last LATENCY_WINDOW deliveries,
        shown by EVENT_SUBSCRIPTIONS()."""
        now = utc_now()
        for event in unit:
            committed = event.get("wallTime")
            if committed is not None:
                if committed.tzinfo is None:
                    committed = committed.replace(tzinfo=dt.UTC)
                self._latency.append((now - committed).total_seconds() * 1000)
        if not self._latency:
            return {}
        ordered = sorted(self._latency)

        def percentile(p: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 3)

        return {
            "delivery_latency_p50_ms": percentile(0.50),
            "delivery_latency_p99_ms": percentile(0.99),
        }

    def _save_idle(self, cursor: Any, force: bool = False) -> None:
        token = cursor.resume_token
        if token is None or token == self._saved_token:
            return
        if not force and time.monotonic() - self._last_idle_save < IDLE_SAVE_SECONDS:
            return
        self._last_idle_save = time.monotonic()
        self._store().update_one(
            {"_id": self.name},
            {"$set": {"resume_token": token, "resume_token_timestamp": utc_now()}},
        )
        self._saved_token = token


Settled = tuple[dict[str, int], list[str]]


def combine(results: Iterable[Settled | None]) -> Settled | None:
    """Counter increments and errors of several settled units added up; None as soon as one
    was interrupted by a stop."""
    increments: dict[str, int] = {}
    errors: list[str] = []
    for result in results:
        if result is None:
            return None
        for key, value in result[0].items():
            increments[key] = increments.get(key, 0) + value
        errors += result[1]
    return increments, errors
