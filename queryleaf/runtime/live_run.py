"""Running a live query: open the change stream, turn events into rows as they arrive, stop
after LIMIT rows or the timeout, and keep the stream visible in ACTIVE_CHANGE_STREAMS().

A live query that follows other statements in one script (`INSERT ...; SELECT ... EMIT
CHANGES LIMIT 1`) must see their writes, though its stream opens after they ran: the
connection asks `starting_token()` for the stream's position before the first of them runs
(again after a DROP TABLE, whose invalidate would end the stream) and the stream starts after
that token (`startAfter`), as a resumed stream would. That is
the postBatchResumeToken of the same stream opened empty, so a real replica set accepts
it exactly as the embedded engine does."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from queryleaf.execute.rows import read_path
from queryleaf.runtime.active_streams import StreamRegistration
from queryleaf.subscriptions.live import LivePlan

POLL_MS = 200


START_OPTIONS = ("startAtOperationTime", "resumeAfter", "startAfter")


def starting_token(plan: LivePlan, db: Any) -> dict[str, Any] | None:
    """The live query's stream position now (None when the query names its own start)."""
    stream_plan = plan.stream
    if any(key in stream_plan.options for key in START_OPTIONS):
        return None
    target = db if stream_plan.collection is None else db[stream_plan.collection]
    with target.watch(**stream_plan.watch_kwargs(), max_await_time_ms=1) as cursor:
        token = cursor.resume_token
    return dict(token) if token else None


def live_rows(
    plan: LivePlan,
    db: Any,
    timeout: float | None = None,
    start_after: dict[str, Any] | None = None,
    check: Callable[[], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Rows of a live query, as events happen after `start_after` (a token from
    starting_token()) or, without it, after the stream opens. `check` is called at every
    poll, also while no event comes: it may raise to end the query (a cancel)."""
    stream_plan = plan.stream
    target = db if stream_plan.collection is None else db[stream_plan.collection]
    deadline = time.monotonic() + timeout if timeout is not None else None
    wait_ms = POLL_MS if deadline is None else max(1, min(POLL_MS, int(timeout * 1000)))
    registry = StreamRegistration(db, stream_plan, "live_query", [])
    kwargs = stream_plan.watch_kwargs()
    if start_after is not None:
        kwargs["start_after"] = start_after
    cursor = target.watch(**kwargs, max_await_time_ms=wait_ms)
    registry.open()
    delivered = 0
    try:
        while plan.limit is None or delivered < plan.limit:
            if deadline is not None and time.monotonic() >= deadline:
                return
            if check is not None:
                check()
            event = cursor.try_next()
            registry.beat(seen=0 if event is None else 1)
            if event is None:
                if not cursor.alive:
                    return  # invalidated (the collection was dropped or renamed): it ended
                continue
            delivered += 1
            yield {column.label: read_path(event, column.path) for column in plan.columns}
    finally:
        cursor.close()
        registry.close()
