"""`queryleaf serve` against the embedded engine in-process, in one run.

    .venv/bin/python bench/server.py [--quick]

The server runs as its own process on a fresh data directory (durable: every acknowledged
write fsynced); the client is pymongo. Printed as ratios against the in-process embedded
engine (the same mongomock-ng client `queryleaf.connect()` uses without a URI):

(a) insert_one, one document at a time: server / in-process (goal <= 2x), and the same with
    a `--memory` server (no fsync) to show what the disk costs and what the protocol costs;
(b) find of 1,000 documents, list(find()): server / in-process (goal <= 1.5x);
(c) change-event latency through the server, from just before insert_one to the event
    arriving at a watch() in another thread: p50 (goal <= 5 ms) and p99;
(d) acknowledged inserts/s with 1, 8 and 32 concurrent clients (threads, each its own
    connection), and the 32:1 ratio (group commit: goal > 1).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pymongo

from queryleaf.engines.embedded import new_client
from tests.server_pass import start_server, stop_server


def fsync_cost(directory: str, count: int = 200) -> float:
    """Seconds per fdatasync of a small append in `directory`: the floor of a durable write."""
    import os

    path = os.path.join(directory, "fsync-probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        began = time.perf_counter()
        for _ in range(count):
            os.write(fd, b"x" * 200)
            os.fdatasync(fd)
        return (time.perf_counter() - began) / count
    finally:
        os.close(fd)
        os.unlink(path)


def best(run: Callable[[], float], repeats: int) -> float:
    return min(run() for _ in range(repeats))


def time_inserts(coll, count: int) -> float:
    coll.drop()
    began = time.perf_counter()
    for i in range(count):
        coll.insert_one({"_id": i, "name": f"user{i}", "age": i % 90, "tags": ["a", "b"]})
    return (time.perf_counter() - began) / count


def time_find(coll, repeats: int) -> float:
    def once() -> float:
        began = time.perf_counter()
        rows = list(coll.find())
        assert len(rows) == 1000
        return time.perf_counter() - began

    return best(once, repeats)


def latency(client: pymongo.MongoClient, count: int) -> list[float]:
    coll = client.bench.latency
    coll.drop()
    arrived: dict[int, float] = {}
    ready = threading.Event()

    def watch() -> None:
        with coll.watch(max_await_time_ms=50) as stream:
            ready.set()
            while len(arrived) < count:
                event = stream.try_next()
                if event is not None:
                    arrived[event["documentKey"]["_id"]] = time.perf_counter()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    ready.wait(10)
    sent = {}
    for i in range(count):
        sent[i] = time.perf_counter()
        coll.insert_one({"_id": i})
        time.sleep(0.002)
    thread.join(30)
    return sorted((arrived[i] - sent[i]) * 1000 for i in range(count) if i in arrived)


def throughput(uri: str, clients: int, seconds: float) -> float:
    done = [0] * clients
    stop = time.monotonic() + seconds
    barrier = threading.Barrier(clients)

    def write(index: int) -> None:
        with pymongo.MongoClient(uri, maxPoolSize=1) as client:
            coll = client.bench[f"concurrent{clients}"]
            coll.find_one()  # connect first
            barrier.wait()
            n = 0
            while time.monotonic() < stop:
                coll.insert_one({"w": index, "n": n})
                n += 1
            done[index] = n

    threads = [threading.Thread(target=write, args=(i,)) for i in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.monotonic() - began)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args().quick
    inserts, repeats, events, seconds = (300, 3, 100, 1.0) if quick else (2000, 10, 300, 3.0)

    local = new_client().bench
    with tempfile.TemporaryDirectory(prefix="queryleaf-bench-") as data:
        disk = fsync_cost(data)
        process, port = start_server(data, "--quiet")
        uri = f"mongodb://127.0.0.1:{port}/?directConnection=true"
        try:
            with pymongo.MongoClient(uri) as client:
                remote = client.bench
                served_insert = best(lambda: time_inserts(remote.inserts, inserts), 3)
                local_insert = best(lambda: time_inserts(local.inserts, inserts), 3)
                for coll in (remote.docs, local.docs):
                    coll.insert_many([{"_id": i, "v": f"value {i}", "n": i} for i in range(1000)])
                served_find = time_find(remote.docs, repeats)
                local_find = time_find(local.docs, repeats)
                waits = latency(client, events)
            rates = {n: throughput(uri, n, seconds) for n in (1, 8, 32)}
        finally:
            stop_server(process)
        process, port = start_server(data + "-unused", "--quiet", "--memory")
        try:
            with pymongo.MongoClient(port=port, directConnection=True) as client:
                memory_insert = best(lambda: time_inserts(client.bench.inserts, inserts), 3)
        finally:
            stop_server(process)

    print(f"(disk) fdatasync of a small append here: {disk * 1e6:.0f} us")
    print(
        f"(a) insert_one: server {served_insert * 1e6:.0f} us, in-process "
        f"{local_insert * 1e6:.0f} us: ratio {served_insert / local_insert:.2f}x (goal <= 2x)"
    )
    print(
        f"    without fsync (--memory): {memory_insert * 1e6:.0f} us: ratio "
        f"{memory_insert / local_insert:.2f}x"
    )
    print(
        f"(b) find 1,000 docs: server {served_find * 1e3:.1f} ms, in-process "
        f"{local_find * 1e3:.1f} ms: ratio {served_find / local_find:.2f}x (goal <= 1.5x)"
    )
    p50 = statistics.median(waits)
    p99 = waits[min(len(waits) - 1, round(0.99 * (len(waits) - 1)))]
    print(
        f"(c) change-event latency over {len(waits)} events: p50 {p50:.2f} ms, "
        f"p99 {p99:.2f} ms (goal p50 <= 5 ms)"
    )
    print(
        "(d) acknowledged inserts/s: "
        + ", ".join(f"{n} client{'s' if n > 1 else ''} {rate:.0f}" for n, rate in rates.items())
        + f": 32 vs 1 ratio {rates[32] / rates[1]:.2f}x (goal > 1)"
    )


if __name__ == "__main__":
    main()
