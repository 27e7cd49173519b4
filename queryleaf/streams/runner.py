"""One subscription's loop: open its change stream (resuming from the stored token), deliver
events one unit at a time in stream order, log each event, dead-letter what exhausts its
retries, and persist the resume token and counters after every unit and on idle polls."""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import time
import uuid
from typing import Any

from bson import json_util

from queryleaf.plan.plans import EXTENDED_JSON
from queryleaf.streams.compile_stream import compile_subscription
from queryleaf.streams.delivery import dead_letter, deliver, ensure_ttl_index
from queryleaf.streams.event_columns import ACTIVE_STREAMS, SUBSCRIPTIONS
from queryleaf.streams.event_log import log_finished, log_started, token_time
from queryleaf.streams.subscriptions import stored_options
from queryleaf.streams.targets import make_target

POLL_MS = 100  # longest wait for an event before the loop checks whether it should stop
IDLE_SAVE_SECONDS = 1.0  # idle polls persist the (moving) resume token at most this often
HEARTBEAT_SECONDS = 10.0
REOPEN_SECONDS = 1.0  # wait before reopening a stream that failed


class SubscriptionRunner:
    """Runs one stored subscription until `stop()`; `run()` is the thread body."""

    def __init__(self, conn: Any, name: str) -> None:
        self.conn, self.db, self.name = conn, conn.db, name
        self.stop_event = threading.Event()
        self.error: BaseException | None = None
        self._ttl_ready = False
        self._last_idle_save = 0.0
        self._saved_token: Any = None

    def stop(self) -> None:
        self.stop_event.set()

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                self._run_stream()
            except Exception as error:  # the stream failed: note it, reopen from the token
                self.error = error
                self._store().update_one(
                    {"_id": self.name}, {"$set": {"last_error": f"stream: {error}"}}
                )
                self.stop_event.wait(REOPEN_SECONDS)

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
        registration = _Registration(self.db, plan, subscription)
        try:
            if not token:
                # A new subscription: record where it starts, so a restart does not skip ahead.
                self._save_idle(cursor, force=True)
            while not self.stop_event.is_set():
                unit = self._next_unit(cursor, options)
                registration.beat(len(unit))
                if not unit:
                    # Invalidated: save its token now; the next round reopens after it.
                    self._save_idle(cursor, force=not cursor.alive)
                    if not cursor.alive:
                        return
                    continue
                if not self._handle(unit, subscription, options, target):
                    return  # stopped during a retry wait: the unit is delivered again later
        finally:
            cursor.close()
            registration.close()

    def _next_unit(self, cursor: Any, options: dict[str, Any]) -> list[dict[str, Any]]:
        event = cursor.try_next()
        if event is None:
            return []
        unit = [event]
        if options["batch_processing"]:
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
        started = _now()
        for event in unit:
            log_started(self.db, subscription, event, started)
        outcome = deliver(target, unit, options, self.stop_event)
        if outcome.interrupted:
            return False
        increments = {
            "events_received": len(unit),
            "events_retried": outcome.retries,
        }
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
        log_finished(self.db, subscription, unit, status, started, outcome.retries, outcome.error)
        last = unit[-1]
        update: dict[str, Any] = {
            "resume_token": last["_id"],
            "resume_token_timestamp": token_time(last) or _now(),
            "last_event_at": last.get("wallTime") or _now(),
        }
        if outcome.error is not None:
            update["last_error"] = outcome.error
        self._store().update_one({"_id": self.name}, {"$set": update, "$inc": increments})
        self._saved_token = last["_id"]
        return True

    def _save_idle(self, cursor: Any, force: bool = False) -> None:
        token = cursor.resume_token
        if token is None or token == self._saved_token:
            return
        if not force and time.monotonic() - self._last_idle_save < IDLE_SAVE_SECONDS:
            return
        self._last_idle_save = time.monotonic()
        self._store().update_one(
            {"_id": self.name},
            {"$set": {"resume_token": token, "resume_token_timestamp": _now()}},
        )
        self._saved_token = token


class _Registration:
    """The subscription's open stream in active_change_streams, kept fresh by heartbeats."""

    def __init__(self, db: Any, plan: Any, subscription: dict[str, Any]) -> None:
        self.collection = db[ACTIVE_STREAMS]
        self.id = uuid.uuid4().hex
        self.seen = 0
        self.last_beat = time.monotonic()
        now = _now()
        self.collection.insert_one(
            {
                "_id": self.id,
                "stream_id": self.id,
                "kind": "subscription",
                "target": plan.collection or "*",
                "watched_collections": plan.watched,
                "pipeline": json_util.dumps(plan.pipeline, json_options=EXTENDED_JSON),
                "subscriptions": [subscription["_id"]],
                "opened_at": now,
                "heartbeat_at": now,
                "events_seen": 0,
                "owner": f"{socket.gethostname()}:{os.getpid()}",
            }
        )

    def beat(self, seen: int) -> None:
        self.seen += seen
        if time.monotonic() - self.last_beat < HEARTBEAT_SECONDS:
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
