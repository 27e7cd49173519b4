"""Helpers shared by the change stream tests (bounded waits: a test never hangs on a stream)."""

from __future__ import annotations

import time
from typing import Any

AWAIT_MS = 20  # max_await_time_ms for the streams under test
DEADLINE = 5.0  # seconds a test waits for events it expects


def drain(stream: Any, count: int | None = None) -> list[dict]:
    """The next `count` events (waiting up to DEADLINE for them), or, with no count, the events
    ready now (until one await passes without an event)."""
    events: list[dict] = []
    deadline = time.monotonic() + DEADLINE
    while stream.alive and (count is None or len(events) < count):
        event = stream.try_next()
        if event is not None:
            events.append(event)
        elif count is None or time.monotonic() > deadline:
            break
    return events


def shape(event: dict, *fields: str) -> dict:
    """The event's operationType and the named fields it has."""
    return {"operationType": event["operationType"]} | {f: event[f] for f in fields if f in event}


def kinds(events: list[dict]) -> list[str]:
    return [event["operationType"] for event in events]
