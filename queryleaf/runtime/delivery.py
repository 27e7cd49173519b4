"""Delivering one unit (an event, or a batch) to a target: retries with a delay that doubles
(with jitter) when exponential_backoff is on, then a dead letter when they are exhausted."""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from queryleaf.runtime.targets import Target
from queryleaf.subscriptions.event_columns import DEAD_LETTERS, utc_now

DEAD_LETTER_TTL_SECONDS = 30 * 24 * 3600


@dataclass
class Outcome:
    delivered: bool
    attempts: int = 0
    error: str | None = None
    first_failed_at: dt.datetime | None = None
    last_failed_at: dt.datetime | None = None
    interrupted: bool = False  # stopped while waiting to retry: not delivered, not dead

    @property
    def retries(self) -> int:
        return max(0, self.attempts - 1)


def retry_delays(options: dict[str, Any]) -> list[float]:
    """Seconds to wait before each retry."""
    delay = options["retry_delay_ms"] / 1000
    delays = []
    for attempt in range(options["max_retry_attempts"]):
        if options["exponential_backoff"]:
            base = delay * (2**attempt)
            delays.append(base * random.uniform(0.8, 1.2))
        else:
            delays.append(delay)
    return delays


def deliver(
    target: Target,
    events: list[dict[str, Any]],
    options: dict[str, Any],
    stop: threading.Event | None = None,
    on_retry: Callable[[Outcome], None] | None = None,
) -> Outcome:
    """Deliver `events` as one unit; the first attempt plus max_retry_attempts retries.
    `on_retry` hears of each failure that will be retried (the event log marks it)."""
    outcome = Outcome(delivered=False)
    batched = bool(options["batch_processing"])
    delays: list[float] | None = None  # drawn at the first failure
    while True:
        outcome.attempts += 1
        try:
            target.deliver(events, batched)
        except Exception as error:  # a target's failure, whatever it is
            now = utc_now()
            outcome.error = f"{type(error).__name__}: {error}"
            outcome.first_failed_at = outcome.first_failed_at or now
            outcome.last_failed_at = now
        else:
            outcome.delivered = True
            return outcome
        if delays is None:
            delays = retry_delays(options)
        if outcome.attempts > len(delays):
            return outcome
        if on_retry is not None:
            on_retry(outcome)
        wait = delays[outcome.attempts - 1]
        if stop is not None and stop.wait(wait):
            outcome.interrupted = True
            return outcome
        if stop is None and wait:
            threading.Event().wait(wait)


def dead_letter(
    db: Any, subscription: dict[str, Any], event: dict[str, Any], outcome: Outcome
) -> None:
    """Keep an event that exhausted its retries in dead_letter_events."""
    stored = {key: value for key, value in event.items() if key != "_id"}
    stored["resume_token"] = event.get("_id")
    # One dead letter per event and subscription, even when a window is delivered again
    # after a stop: the id is derived from the event's token.
    token = (event.get("_id") or {}).get("_data")
    key = f"{subscription['subscription_id']}:{token}"
    db[DEAD_LETTERS].replace_one(
        {"_id": key},
        {
            "subscription_id": subscription["subscription_id"],
            "service_name": subscription.get("service_name"),
            "event": stored,
            "error": outcome.error,
            "attempts": outcome.attempts,
            "first_failed_at": outcome.first_failed_at,
            "last_failed_at": outcome.last_failed_at,
            "created_at": utc_now(),
        },
        upsert=True,
    )


def ensure_ttl_index(db: Any) -> None:
    """Dead letters expire 30 days after they were written (a runner calls this once,
    before its first dead letter)."""
    db[DEAD_LETTERS].create_index("created_at", expireAfterSeconds=DEAD_LETTER_TTL_SECONDS)
