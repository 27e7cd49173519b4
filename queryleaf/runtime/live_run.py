"""Running a live query: open the change stream, turn events into rows as they arrive, stop
after LIMIT rows or the timeout, and keep the stream visible in ACTIVE_CHANGE_STREAMS()."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from queryleaf.execute.rows import read_path
from queryleaf.runtime.active_streams import StreamRegistration
from queryleaf.subscriptions.live import LivePlan

POLL_MS = 200


def live_rows(
    plan: LivePlan, db: Any, timeout: float | None = None, *, record: bool = True
) -> Iterator[dict[str, Any]]:
    """Rows of a live query, as events happen. `record=False` (a read-only connection)
    keeps the stream's ACTIVE_CHANGE_STREAMS() row and heartbeats in memory."""
    stream_plan = plan.stream
    target = db if stream_plan.collection is None else db[stream_plan.collection]
    deadline = time.monotonic() + timeout if timeout is not None else None
    wait_ms = POLL_MS if deadline is None else max(1, min(POLL_MS, int(timeout * 1000)))
    registry = StreamRegistration(db, stream_plan, "live_query", [], record=record)
    cursor = target.watch(**stream_plan.watch_kwargs(), max_await_time_ms=wait_ms)
    registry.open()
    delivered = 0
    try:
        while plan.limit is None or delivered < plan.limit:
            if deadline is not None and time.monotonic() >= deadline:
                return
            event = cursor.try_next()
            registry.beat(seen=0 if event is None else 1)
            if event is None:
                continue
            delivered += 1
            yield {column.label: read_path(event, column.path) for column in plan.columns}
    finally:
        cursor.close()
        registry.close()
