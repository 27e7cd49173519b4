"""Delivering and committing one window of a subscription's events: deliver them (in order,
as a batch, or in parallel by document), dead-letter what exhausts its retries, then commit
the window in one round of writes: its event-log rows, dead letters, counters and the resume
token past it. A window still running after PROCESSING_MARK_SECONDS shows `processing` rows
(one process-wide thread looks: SLOW_WINDOWS)."""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import threading
import time
import weakref
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from queryleaf.runtime.delivery import Outcome, dead_letter, deliver, ensure_ttl_index
from queryleaf.runtime.event_log import (
    clear_retrying,
    ensure_log_ttl,
    log_row,
    mark_processing,
    mark_retrying,
    token_time,
    write_rows,
)
from queryleaf.subscriptions.event_columns import utc_now

LATENCY_WINDOW = 1000  # deliveries the latency percentiles are computed over
MAX_PARALLEL_DELIVERIES = 8  # without preserve_order: documents delivered at once
PROCESSING_MARK_SECONDS = 0.25  # a window slower than this shows `processing` rows


@dataclass(frozen=True)
class Job:
    """What a runner's stream delivers with: the stored subscription, its options, its target."""

    subscription: dict[str, Any]
    options: dict[str, Any]
    target: Any


@dataclass(frozen=True, eq=False)
class Settled:
    """How one unit's delivery ended (shared by the events of a batch)."""

    status: str  # completed, dead_letter or failed
    started: dt.datetime
    finished: dt.datetime
    outcome: Outcome


class WindowCommits:
    """The delivery half of SubscriptionRunner (queryleaf.runtime.runner), which sets the
    attributes below and provides `_fenced` (the fenced subscription update)."""

    db: Any
    stop_event: threading.Event
    _writes: threading.Lock
    _inflight: tuple[list[dict[str, Any]], Job, float] | None
    _marked: object
    _latency: deque[float]  # the last LATENCY_WINDOW delivery latencies, oldest first
    _latency_order: list[float]  # the same, in ascending order
    _ttl_ready: bool
    _log_ttl_ready: bool
    _saved_token: Any

    def _fenced(self, update: dict[str, Any]) -> bool:
        raise NotImplementedError

    def _handle(
        self,
        events: list[dict[str, Any]],
        job: Job,
    ) -> bool:
        """Deliver a window of events and commit it: their log rows, dead letters and the
        resume token past them in one round of writes. Only the run of settled events from
        the window's start is committed; False when a stop cut it short (the rest is
        delivered again by the next runner)."""
        if not self._log_ttl_ready:
            ensure_log_ttl(self.db, job.options["event_log_ttl_days"])
            self._log_ttl_ready = True
        self._inflight = (events, job, time.monotonic())
        try:
            results = self._deliver_window(events, job)
            settled = 0
            while settled < len(results) and results[settled] is not None:
                settled += 1
            if settled:
                done = [result for result in results[:settled] if result is not None]
                self._commit(events[:settled], done, job.subscription, job.options)
        finally:
            with self._writes:
                self._inflight = None
        return settled == len(events)

    def mark_if_slow(self) -> None:
        """Called by SLOW_WINDOWS: a window still being delivered PROCESSING_MARK_SECONDS
        after it started shows its events as `processing` in the event log. Quick windows
        (nearly all) never pay that write; their rows appear once, settled."""
        current = self._inflight
        if current is None or current is self._marked:
            return
        if time.monotonic() - current[2] < PROCESSING_MARK_SECONDS:
            return
        self._marked = current
        events, job, _ = current
        if job.options["event_log"] != "all":
            return
        with self._writes:
            if self._inflight is current:  # not committed meanwhile
                mark_processing(self.db, job.subscription, events)

    def _deliver_window(
        self,
        events: list[dict[str, Any]],
        job: Job,
    ) -> list[Settled | None]:
        """One result per event, None for those a stop left unsettled."""
        if job.options["batch_processing"]:
            # A window is at most batch_size events: it is the batch.
            result = self._settle(events, job)
            return [result] * len(events)
        if job.options["preserve_order"] or len(events) == 1:
            return self._settle_in_order(events, job)
        # Events of one document stay in order; different documents run in parallel.
        groups: dict[str, list[int]] = {}
        for index, event in enumerate(events):
            groups.setdefault(repr(event.get("documentKey")), []).append(index)
        results: list[Settled | None] = [None] * len(events)

        def run(indexes: list[int]) -> None:
            own = [events[i] for i in indexes]
            for i, result in zip(indexes, self._settle_in_order(own, job), strict=True):
                results[i] = result

        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_DELIVERIES, len(groups))) as pool:
            list(pool.map(run, groups.values()))
        return results

    def _settle_in_order(
        self,
        events: list[dict[str, Any]],
        job: Job,
    ) -> list[Settled | None]:
        """Events one after the other; a stop leaves the rest unsettled."""
        results: list[Settled | None] = [None] * len(events)
        for index, event in enumerate(events):
            if self.stop_event.is_set():
                break  # a stop takes effect after the delivery in flight, not the window
            results[index] = self._settle([event], job)
            if results[index] is None:
                break
        return results

    def _settle(
        self,
        unit: list[dict[str, Any]],
        job: Job,
    ) -> Settled | None:
        """Deliver one unit (an event or a batch) with retries: how it ended, or None when
        stopped while waiting to retry. Rows of a failing unit show `retrying` meanwhile."""
        started = utc_now()

        def retrying(failed: Any) -> None:
            with self._writes:
                mark_retrying(
                    self.db, job.subscription, unit, started, failed.attempts, failed.error or ""
                )

        outcome = deliver(job.target, unit, job.options, self.stop_event, on_retry=retrying)
        if outcome.interrupted:
            if outcome.attempts:
                with self._writes:  # not retrying any more: the next runner delivers it
                    clear_retrying(self.db, job.subscription, unit)
            return None
        if outcome.delivered:
            status = "completed"
        elif job.options["dead_letter_queue_enabled"]:
            status = "dead_letter"
        else:
            status = "failed"  # given up without a dead-letter queue: skipped
        return Settled(status, started, utc_now(), outcome)

    def _commit(
        self,
        events: list[dict[str, Any]],
        results: list[Settled],
        subscription: dict[str, Any],
        options: dict[str, Any],
    ) -> None:
        """Log rows and dead letters first, then the token: a crash in between delivers the
        window again and rewrites the same rows (their ids are the events' tokens)."""
        rows = []
        letters = []
        counts = {"completed": 0, "dead_letter": 0, "failed": 0}
        retried = 0
        units: set[int] = set()
        errors = []
        every_row = options["event_log"] == "all"
        for event, result in zip(events, results, strict=True):
            outcome = result.outcome
            # With event_log = 'failures', an event that failed at least once keeps its row
            # (it replaces the `retrying` one), even when a retry delivered it.
            if every_row or result.status != "completed" or outcome.retries:
                rows.append(
                    log_row(
                        subscription, event, result.status, result.started, result.finished,
                        outcome.retries, outcome.error,
                    )
                )  # fmt: skip
            counts[result.status] += 1
            if result.status == "dead_letter":
                letters.append((event, outcome))
            if id(result) not in units:  # a batch's retries count once
                units.add(id(result))
                retried += outcome.retries
                if outcome.error:
                    errors.append(outcome.error)
        increments = {
            "events_received": len(events),
            "events_delivered": counts["completed"],
            "events_dead_lettered": counts["dead_letter"],
            "events_skipped": counts["failed"],
            "events_retried": retried,
        }
        last = events[-1]
        update: dict[str, Any] = {
            "resume_token": last["_id"],
            "resume_token_timestamp": token_time(last) or utc_now(),
            "last_event_at": last.get("wallTime") or utc_now(),
        }
        if errors:
            update["last_error"] = errors[-1]
        if counts["completed"]:
            update.update(self._latencies(events, results))
        with self._writes:
            write_rows(self.db, rows)
            if letters:
                if not self._ttl_ready:
                    ensure_ttl_index(self.db)
                    self._ttl_ready = True
                for event, outcome in letters:
                    dead_letter(self.db, subscription, event, outcome)
            committed = self._fenced(
                {"$set": update, "$inc": {k: v for k, v in increments.items() if v}}
            )
        if committed:
            self._saved_token = last["_id"]

    def _latencies(self, events: list[dict[str, Any]], results: list[Settled]) -> dict[str, Any]:
        """Commit-to-delivery latency percentiles over the last LATENCY_WINDOW deliveries,
        shown by EVENT_SUBSCRIPTIONS()."""
        for event, result in zip(events, results, strict=True):
            committed = event.get("wallTime")
            if result.status != "completed":
                continue
            if committed is not None:
                if committed.tzinfo is None:
                    committed = committed.replace(tzinfo=dt.UTC)
                delay = max(0.0, (result.finished - committed).total_seconds() * 1000)
                # Kept in order as they come and go (a sort per window cost more than the
                # window's own events when windows are small).
                if len(self._latency) == self._latency.maxlen:
                    oldest = self._latency[0]
                    del self._latency_order[bisect.bisect_left(self._latency_order, oldest)]
                self._latency.append(delay)
                bisect.insort(self._latency_order, delay)
        if not self._latency:
            return {}
        ordered = self._latency_order

        def percentile(p: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 3)

        return {
            "delivery_latency_p50_ms": percentile(0.50),
            "delivery_latency_p99_ms": percentile(0.99),
        }


class SlowWindows:
    """One thread for the whole process that looks at every running runner's window twice
    per PROCESSING_MARK_SECONDS (a thread per runner would wake the interpreter far more)."""

    def __init__(self) -> None:
        self._runners: weakref.WeakSet[WindowCommits] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, runner: WindowCommits) -> None:
        with self._lock:
            self._runners.add(runner)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="queryleaf-slow-windows", daemon=True
                )
                self._thread.start()

    def forget(self, runner: WindowCommits) -> None:
        with self._lock:
            self._runners.discard(runner)

    def _run(self) -> None:
        while True:
            time.sleep(PROCESSING_MARK_SECONDS / 2)
            with self._lock:
                runners = list(self._runners)
                if not runners:
                    self._thread = None  # the next watch() starts another
                    return
            for runner in runners:
                with contextlib.suppress(Exception):  # unreachable: the commit will say so
                    runner.mark_if_slow()


SLOW_WINDOWS = SlowWindows()
