"""Two processes through the server: a worker delivering a subscription (with its lease) and a
client writing; the worker is killed with SIGKILL and a second worker, waiting for the lease,
takes over with nothing lost."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest

import queryleaf
from tests.server_fixtures import running

TAKEOVER_TIMEOUT = 60.0  # the default lease is 15 s; its expiry is what the takeover waits for


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def worker(uri: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "queryleaf", "worker", "--uri", uri, "--db", "shop"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.timeout(180)
def test_a_killed_worker_is_taken_over_with_nothing_lost(tmp_path) -> None:
    with running(tmp_path / "data") as service:
        uri = f"mongodb://127.0.0.1:{service.port}/?directConnection=true"
        conn = queryleaf.connect(uri, database="shop")
        workers: list[subprocess.Popen[bytes]] = []
        try:
            # Declared and started by a short-lived process of its own, as `queryleaf -e` does;
            # the workers deliver it.
            with queryleaf.connect(uri, database="shop") as setup:
                setup.run_sql(
                    "CREATE EVENT_SUBSCRIPTION mirror AS (watch_collections = "
                    "JSON_ARRAY('orders'), deliver_to = 'collection:order_copies'); "
                    "START EVENT_SUBSCRIPTION mirror"
                )
            leases = conn.db.event_subscription_leases
            copies = conn.db.order_copies
            workers.append(worker(uri))
            first = wait_for(
                lambda: leases.find_one(
                    {"_id": "mirror", "owner": {"$regex": f":{workers[0].pid}:"}}
                ),
                30,
                "worker A's lease",
            )
            conn.db.orders.insert_many([{"_id": i, "n": i} for i in range(50)])
            wait_for(lambda: copies.count_documents({}) == 50, 30, "worker A's deliveries")
            workers.append(worker(uri))
            time.sleep(1.0)  # B is up and waiting for the lease
            workers[0].kill()
            workers[0].wait(10)
            for i in range(50, 100):
                conn.db.orders.insert_one({"_id": i, "n": i})
            wait_for(
                lambda: copies.count_documents({}) == 100,
                TAKEOVER_TIMEOUT,
                "worker B to take over and deliver the rest",
            )
            holder = leases.find_one({"_id": "mirror"})
            assert holder is not None and holder["owner"] != first["owner"]
            assert sorted(d["_id"] for d in copies.find()) == list(range(100))
            assert workers[1].poll() is None  # B is still serving
        finally:
            for process in workers:
                if process.poll() is None:
                    process.terminate()
                    try:
                        process.wait(15)
                    except subprocess.TimeoutExpired:
                        process.kill()
            conn.close()
