"""Where a subscription runner reads its events from: its own change stream (PrivateSource) or
its share of a stream several subscriptions read together (shared_streams.Member). Both hand
out Reads: the events that arrived, the position everything before is settled up to, and
whether the stream ended for this subscription."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class Read:
    """What one read returned."""

    events: list[dict[str, Any]] = field(default_factory=list)
    # With no events: the stream's position (a high-water mark token) to save while idle.
    position: dict[str, Any] | None = None
    invalidated: bool = False  # the watched collection was dropped or renamed
    detached: bool = False  # fell too far behind a shared stream: reopen on a private one
    error: BaseException | None = None  # a stream error the runner's policies handle


class EventSource(Protocol):
    kind: str  # "private" or "shared", shown by ACTIVE_CHANGE_STREAMS()

    def read(self, limit: int, timeout: float) -> Read: ...

    def close(self) -> None: ...


class PrivateSource:
    """A change stream of the subscription's own."""

    kind = "private"

    def __init__(self, cursor: Any, registration: Any) -> None:
        self.cursor = cursor
        self.registration = registration  # its ACTIVE_CHANGE_STREAMS() row

    def read(self, limit: int, timeout: float) -> Read:
        # The cursor's max_await_time_ms (set when it was opened) bounds the first wait.
        event = self.cursor.try_next()
        if event is None:
            self.registration.beat()
            return Read(position=self.cursor.resume_token, invalidated=not self.cursor.alive)
        events = [event]
        while len(events) < limit:
            more = self.cursor.try_next()
            if more is None:
                break
            events.append(more)
        self.registration.beat(len(events))
        if not self.cursor.alive:  # an invalidate ended the stream (even one filtered out)
            return Read(events=events, position=self.cursor.resume_token, invalidated=True)
        return Read(events=events)

    def close(self) -> None:
        self.cursor.close()
        self.registration.close()
