"""The delivery-latency percentiles a subscription stores (EVENT_SUBSCRIPTIONS()) are those of
its last LATENCY_WINDOW deliveries, kept in order as deliveries come and go."""

from __future__ import annotations

import datetime as dt
import random
from collections import deque

from queryleaf.runtime.delivery import Outcome
from queryleaf.runtime.window_commits import LATENCY_WINDOW, Settled, WindowCommits


class _Runner(WindowCommits):
    def __init__(self) -> None:
        self._latency = deque(maxlen=LATENCY_WINDOW)
        self._latency_order = []


def _expected(delays: list[float]) -> dict[str, float]:
    if not delays:
        return {}
    ordered = sorted(delays[-LATENCY_WINDOW:])

    def percentile(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 3)

    return {
        "delivery_latency_p50_ms": percentile(0.50),
        "delivery_latency_p99_ms": percentile(0.99),
    }


def test_percentiles_cover_the_last_deliveries_only() -> None:
    rng = random.Random(16)
    runner = _Runner()
    committed = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    delays: list[float] = []
    checked = 0
    while len(delays) < 3 * LATENCY_WINDOW:
        size = rng.choice([1, 3, 100, 250])
        events, results = [], []
        for _ in range(size):
            # Whole milliseconds, many equal values: removal must take out one of the equals.
            ms = rng.choice([0, 1, 2, 5, rng.randint(0, 5000)])
            finished = committed + dt.timedelta(milliseconds=ms)
            status = "completed" if rng.random() > 0.1 else "dead_letter"
            events.append({"wallTime": committed})
            results.append(Settled(status, committed, finished, Outcome(delivered=True)))
            if status == "completed":
                delays.append(float(ms))
        got = runner._latencies(events, results)
        assert got == _expected(delays)
        assert len(runner._latency_order) == min(len(delays), LATENCY_WINDOW)
        checked += 1
    assert checked > 20
