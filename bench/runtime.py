"""Subscription runtime cost on the embedded engine.

    .venv/bin/python bench/runtime.py [--quick]

(a) One Python-handler subscription (`deliver_to = 'handler:h'`, preserve_order), with its
    event log complete (`event_log = 'all'`, the default: one row per event) and with failures
    only (`event_log = 'failures'`), against a bare loop on the same engine (`db.coll.watch(full_document='updateLookup')` in a thread, calling
    the same handler for each event). N documents are inserted one by one, each carrying
    time.perf_counter() at its insert; the handler measures write-to-delivery latency.
    Two runs per consumer:
      - streaming: the consumer runs while the writer inserts: latency p50/p99, events/s from
        the first insert to the last handler call;
      - backlog: the handler holds the first event until all N are written, then the consumer
        drains the rest: pure consumer events/s.
    Goal: the subscription's throughput >= 0.8 of the bare loop's, with the full event log,
    streaming and on a backlog. Each run also records the process's CPU time, and the goal line
    reads the ratio of events per CPU second (wall-clock rates swing with whatever else runs on
    the machine; both are printed).

(b) K subscriptions on one collection (each with its own counting handler and a filter on a
    field, so that routing is real work); M inserts; the time until every handler saw every
    event it matches, with the runtime's shared stream (one change stream for all K) and with a
    change stream per subscription (`Runtime(share_streams=False)`). Each subscription still
    delivers, logs and commits its own events, so the total grows with K; the shared stream's
    part (reading and building each event once) does not.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import queryleaf
from queryleaf.runtime.runtime import Runtime

GOAL = 0.8
REPEATS = 5
COLL = "bench"
WAIT_SECONDS = 60.0
FANOUT_CAP = 25.0  # a fan-out run that takes longer is reported as not finished


def wait_until(condition: Callable[[], bool], timeout: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark consumer did not keep up in time")
        time.sleep(0.001)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Recorder:
    """The handler both consumers call: latency from the document's insert time."""

    def __init__(self, n: int, hold_first: bool) -> None:
        self.n = n
        self.latencies: list[float] = []
        self.last_call = 0.0
        self.released_at = 0.0
        # The process's CPU time at the same moments: what the consumer cost, whatever else
        # runs on the machine (several engineers' tests share two cores).
        self.cpu_last = 0.0
        self.cpu_first = 0.0
        self.cpu_released = 0.0
        self.gate = threading.Event()
        if not hold_first:
            self.gate.set()

    def __call__(self, event: dict[str, Any]) -> None:
        if not self.latencies:
            self.gate.wait(WAIT_SECONDS)
        now = time.perf_counter()
        self.latencies.append(now - event["fullDocument"]["t"])
        self.last_call = now
        self.cpu_last = time.process_time()

    def done(self) -> bool:
        return len(self.latencies) >= self.n


def write(db: Any, n: int, recorder: Recorder) -> float:
    """Insert n documents one by one; the time of the first insert."""
    recorder.cpu_first = time.process_time()
    first = time.perf_counter()
    for i in range(n):
        db[COLL].insert_one({"i": i, "t": time.perf_counter()})
    if not recorder.gate.is_set():  # backlog mode: everything is written, let the consumer go
        recorder.cpu_released = time.process_time()
        recorder.released_at = time.perf_counter()
        recorder.gate.set()
    return first


def run_subscription(n: int, backlog: bool, event_log: str = "all") -> tuple[Recorder, float]:
    recorder = Recorder(n, backlog)
    with queryleaf.connect() as conn:
        conn.register_handler("h", recorder)
        conn.run_sql(
            "CREATE EVENT_SUBSCRIPTION s AS (watch_collections = JSON_ARRAY('bench'), "
            f"deliver_to = 'handler:h', preserve_order = TRUE, event_log = '{event_log}')"
        )
        conn.start_subscription("s")
        store = conn.db.event_subscriptions
        wait_until(lambda: store.find_one({"_id": "s"})["resume_token"] is not None)
        first = write(conn.db, n, recorder)
        wait_until(recorder.done)
        conn.stop_subscription("s")
    return recorder, first


def run_bare(n: int, backlog: bool) -> tuple[Recorder, float]:
    recorder = Recorder(n, backlog)
    with queryleaf.connect() as conn:
        db = conn.db
        opened = threading.Event()

        def loop() -> None:
            with db[COLL].watch(full_document="updateLookup") as cs:
                opened.set()
                for seen, event in enumerate(cs, 1):
                    recorder(event)
                    if seen >= n:
                        return

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        opened.wait(WAIT_SECONDS)
        first = write(db, n, recorder)
        wait_until(recorder.done)
        thread.join(WAIT_SECONDS)
    return recorder, first


def rate(recorder: Recorder, first: float, backlog: bool) -> float:
    if backlog:  # the first (held) event is not counted: the drain of the other n - 1
        return (recorder.n - 1) / (recorder.last_call - recorder.released_at)
    return recorder.n / (recorder.last_call - first)


def cpu_rate(recorder: Recorder, backlog: bool) -> float:
    """Events per second of the process's CPU time (writer included while streaming)."""
    if backlog:
        return (recorder.n - 1) / max(1e-9, recorder.cpu_last - recorder.cpu_released)
    return recorder.n / max(1e-9, recorder.cpu_last - recorder.cpu_first)


def bench_handler(n: int) -> None:
    print(
        f"(a) one handler subscription vs a bare watch() loop, {n:,} inserts, median of {REPEATS}"
    )
    results: dict[tuple[str, bool], tuple[float, float, float]] = {}
    cpu: dict[tuple[str, bool], float] = {}
    consumers: list[tuple[str, Callable[[int, bool], tuple[Recorder, float]]]] = [
        ("bare loop", run_bare),
        ("subscription", run_subscription),
        ("sub failures", lambda n, backlog: run_subscription(n, backlog, "failures")),
    ]
    for backlog in (False, True):
        for label, run in consumers:
            # Two threads share one interpreter lock, so single runs vary widely: the median
            # run (by events/s) of REPEATS is reported.
            runs = []
            cpu_runs = []
            for _ in range(REPEATS):
                recorder, first = run(n, backlog)
                lat = recorder.latencies[1:] if backlog else recorder.latencies
                runs.append(
                    (
                        rate(recorder, first, backlog),
                        percentile(lat, 50) * 1000,
                        percentile(lat, 99) * 1000,
                    )
                )
                cpu_runs.append(cpu_rate(recorder, backlog))
            results[(label, backlog)] = sorted(runs)[len(runs) // 2]
            cpu[(label, backlog)] = sorted(cpu_runs)[len(cpu_runs) // 2]
    header = (
        f"  {'consumer':<14}{'mode':<11}{'events/s':>10}{'p50 ms':>10}{'p99 ms':>10}"
        f"{'CPU us/event':>14}"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for backlog in (False, True):
        mode = "backlog" if backlog else "streaming"
        for label, _ in consumers:
            eps, p50, p99 = results[(label, backlog)]
            lat = f"{p50:>10.2f}{p99:>10.2f}" if not backlog else f"{'-':>10}{'-':>10}"
            print(f"  {label:<14}{mode:<11}{eps:>10,.0f}{lat}{1e6 / cpu[(label, backlog)]:>14.1f}")
    print("  (streaming CPU per event includes the writer's insert)")
    for label, _ in consumers[1:]:
        for backlog in (False, True):
            mode = "backlog" if backlog else "streaming"
            ratio = results[(label, backlog)][0] / results[("bare loop", backlog)][0]
            by_cpu = cpu[(label, backlog)] / cpu[("bare loop", backlog)]
            verdict = "meets" if by_cpu >= GOAL else "misses"
            print(
                f"  throughput ratio {label}/bare ({mode}): {by_cpu:.3f} by CPU time,"
                f" {ratio:.3f} by wall time ({verdict} goal >= {GOAL})"
            )
    print("  (backlog latencies are not shown: they measure the hold, not the consumer)")
    print()


def run_fanout(k: int, m: int, shared: bool) -> float | None:
    """Seconds until every handler saw its m / 2 events; None past FANOUT_CAP seconds."""
    counts = [0] * k
    with queryleaf.connect() as conn, Runtime(conn, share_streams=shared) as runtime:
        for j in range(k):

            def count(event: dict[str, Any], j: int = j) -> None:
                counts[j] += 1

            conn.register_handler(f"h{j}", count)
            conn.run_sql(
                f"CREATE EVENT_SUBSCRIPTION s{j} AS (watch_collections = JSON_ARRAY('bench'), "
                f"deliver_to = 'handler:h{j}', preserve_order = TRUE, "
                f"event_filter = JSON_OBJECT('fullDocument.even', {'TRUE' if j % 2 else 'FALSE'}))"
            )
            runtime.start(f"s{j}")
        store = conn.db.event_subscriptions
        wait_until(lambda: store.count_documents({"resume_token": None}) == 0)
        start = time.perf_counter()
        for i in range(m):
            conn.db[COLL].insert_one({"i": i, "even": i % 2 == 0, "t": time.perf_counter()})
        try:
            wait_until(lambda: min(counts) >= m // 2, FANOUT_CAP)
            elapsed: float | None = time.perf_counter() - start
        except TimeoutError:
            elapsed = None
    return elapsed


def median_run(k: int, m: int, shared: bool) -> float | None:
    runs = [run_fanout(k, m, shared) for _ in range(REPEATS)]
    if any(r is None for r in runs):
        return None
    return sorted(r for r in runs if r is not None)[len(runs) // 2]


def bench_fanout(ks: list[int], m: int) -> None:
    print(
        f"(b) K subscriptions on one collection, {m:,} inserts (each subscription matches half),"
        f" until every handler saw its events; median of {REPEATS}"
    )
    header = f"  {'K':>4}{'shared s':>10}{'private s':>11}{'private/shared':>16}{'shared/K=1':>12}"
    print(header)
    print("  " + "-" * (len(header) - 2))
    base = None
    for k in ks:
        shared, private = median_run(k, m, True), median_run(k, m, False)
        if shared is None or private is None:
            print(f"  {k:>4}  did not finish in {FANOUT_CAP:.0f} s")
            continue
        base = base or shared
        print(
            f"  {k:>4}{shared:>10.2f}{private:>11.2f}{private / shared:>15.1f}x{shared / base:>11.1f}x"
        )
    print(
        "  shared/K=1 below K is sub-linear growth: the stream is read once for all K; what\n"
        "  grows with K is each subscription's own delivery, event-log row and token commit."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer events and subscriptions")
    args = parser.parse_args()
    # Sized so that the whole run stays under a minute on two cores.
    n = 500 if args.quick else 2_000
    ks = [1, 10, 20] if args.quick else [1, 10, 20, 50]
    m = 40 if args.quick else 200
    started = time.perf_counter()
    bench_handler(n)
    bench_fanout(ks, m)
    print(f"\n(total {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
