"""Leases, the worker loop and its metrics on the embedded engine. Lease times are shortened
so that a takeover happens within a second or two; every wait is bounded."""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from queryleaf.connection import Connection
from queryleaf.errors import QueryLeafError
from queryleaf.runtime.leases import Leases
from queryleaf.runtime.metrics import serve_metrics
from queryleaf.runtime.runtime import Runtime
from queryleaf.runtime.worker import Worker
from queryleaf.shell import cli
from tests.test_runtime import subscription
from tests.test_runtime import wait_for as wait_until

FAST_LEASES = {"leases": True, "lease_seconds": 1.0, "renew_seconds": 0.2}


def wait_for(condition: Callable[[], Any], timeout: float = 8.0) -> Any:
    """Lease hand-overs take a few renewal rounds: a longer default wait."""
    return wait_until(condition, timeout)


def lease(conn, name: str) -> dict[str, Any] | None:
    return conn.db.event_subscription_leases.find_one({"_id": name})


def test_lease_primitives(conn) -> None:
    a = Leases(conn.db, "a", duration=0.3)
    b = Leases(conn.db, "b", duration=0.3)
    assert a.acquire("s") and a.acquire("s")  # free, then already ours
    assert not b.acquire("s") and b.holder("s") == "a"
    assert a.renew("s")
    time.sleep(0.4)  # expired
    assert b.holder("s") is None
    assert b.acquire("s") and not a.renew("s")
    a.release("s")  # not ours any more: kept
    assert lease(conn, "s")["owner"] == "b"
    b.release("s")
    assert lease(conn, "s") is None


def two_owners(conn, seen: dict[str, list[tuple[str, int]]]) -> tuple[Runtime, Runtime]:
    """Two runtimes with their own connections (as two processes would have) on one database,
    each registering handler 'h<owner>' that records (owner, _id) per subscription."""
    runtimes = []
    for owner in ("A", "B"):
        own = Connection(conn.db)
        for name in seen:
            own.register_handler(
                name, lambda e, o=owner, n=name: seen[n].append((o, e["documentKey"]["_id"]))
            )
        runtimes.append(Runtime(own, owner=owner, **FAST_LEASES))
    return runtimes[0], runtimes[1]


def test_each_subscription_is_delivered_by_exactly_one_owner(conn) -> None:
    seen: dict[str, list[tuple[str, int]]] = {"s1": [], "s2": []}
    for name in seen:
        conn.run_sql(
            f"CREATE EVENT_SUBSCRIPTION {name} AS "
            f"(watch_collections = JSON_ARRAY('orders'), deliver_to = 'handler:{name}')"
        )
    a, b = two_owners(conn, seen)
    with a, b:
        assert a.start("s1") and b.start("s2")
        assert not a.start("s2") and not b.start("s1")  # held by the other: wanted only
        assert a.wanted() == b.wanted() == ["s1", "s2"]
        for name in seen:
            wait_for(lambda n=name: subscription(conn, n)["resume_token"] is not None)
        conn.db.orders.insert_many([{"_id": i} for i in range(10)])
        for name in seen:
            wait_for(lambda n=name: subscription(conn, n)["events_delivered"] == 10)
        time.sleep(0.5)  # a few renewals: nothing changes hands while both are alive
        assert a.running() == ["s1"] and b.running() == ["s2"]
    assert seen["s1"] == [("A", i) for i in range(10)]
    assert seen["s2"] == [("B", i) for i in range(10)]
    assert lease(conn, "s1") is None and lease(conn, "s2") is None  # released on clean stop


def test_a_crashed_owner_is_taken_over_after_expiry_without_losing_events(conn) -> None:
    seen: dict[str, list[tuple[str, int]]] = {"s": []}
    conn.run_sql(
        "CREATE EVENT_SUBSCRIPTION s AS "
        "(watch_collections = JSON_ARRAY('orders'), deliver_to = 'handler:s')"
    )
    a, b = two_owners(conn, seen)
    assert a.start("s") and not b.start("s")
    wait_for(lambda: subscription(conn, "s")["resume_token"] is not None)
    conn.db.orders.insert_many([{"_id": i} for i in range(5)])
    wait_for(lambda: subscription(conn, "s")["events_delivered"] == 5)
    a.stop_all(release=False)  # a crash: threads gone, lease left to expire
    assert lease(conn, "s")["owner"] == "A"
    conn.db.orders.insert_many([{"_id": i} for i in range(5, 10)])
    crashed = time.monotonic()
    with b:
        wait_for(lambda: b.is_running("s"))
        assert time.monotonic() - crashed > 0.5  # not before A's lease expired
        assert lease(conn, "s")["owner"] == "B"
        wait_for(lambda: subscription(conn, "s")["events_delivered"] == 10)
    assert sorted({i for _, i in seen["s"]}) == list(range(10))
    assert [o for o, i in seen["s"] if i >= 5] == ["B"] * 5


def test_a_runner_whose_lease_is_taken_stops_delivering(conn) -> None:
    seen: dict[str, list[tuple[str, int]]] = {"s": []}
    conn.run_sql(
        "CREATE EVENT_SUBSCRIPTION s AS "
        "(watch_collections = JSON_ARRAY('orders'), deliver_to = 'handler:s')"
    )
    a, _ = two_owners(conn, seen)
    with a:
        assert a.start("s")
        conn.db.event_subscription_leases.update_one({"_id": "s"}, {"$set": {"owner": "other"}})
        wait_for(lambda: not a.is_running("s"))
        assert a.wanted() == ["s"]  # retaken once the other owner's lease expires
        wait_for(lambda: a.is_running("s"), timeout=5)


def test_worker_loop_metrics_and_sigterm(conn) -> None:
    conn.run_sql(
        "CREATE EVENT_SUBSCRIPTION mirror AS "
        "(watch_collections = JSON_ARRAY('users'), deliver_to = 'collection:users_copy')"
    )
    conn.run_sql(
        "CREATE EVENT_SUBSCRIPTION py AS "
        "(watch_collections = JSON_ARRAY('users'), deliver_to = 'handler:py')"
    )
    err = io.StringIO()
    worker = Worker(conn, err=err, lease_seconds=1.0, renew_seconds=0.2, scan_seconds=0.1)
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(worker.run()), daemon=True)
    thread.start()
    server = serve_metrics(worker, 0)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        wait_for(lambda: worker.runtime.is_running("mirror"))
        wait_for(lambda: subscription(conn, "mirror")["resume_token"] is not None)
        conn.db.users.insert_many([{"_id": 1}, {"_id": 2}])
        wait_for(lambda: subscription(conn, "mirror")["events_delivered"] == 2)
        assert conn.db.users_copy.count_documents({}) == 2
        with urllib.request.urlopen(f"{base}/health", timeout=5) as response:
            assert response.status == 200 and response.read() == b"ok\n"
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as response:
            metrics = response.read().decode()
        assert 'queryleaf_subscription_events_received_total{subscription="mirror"} 2' in metrics
        assert 'queryleaf_subscription_events_delivered_total{subscription="mirror"} 2' in metrics
        assert 'queryleaf_subscription_events_retried_total{subscription="mirror"} 0' in metrics
        assert 'queryleaf_subscription_events_dead_lettered_total{subscription="mirror"} 0' in (
            metrics
        )
        assert 'queryleaf_subscription_up{subscription="mirror"} 1' in metrics
        assert 'queryleaf_subscription_up{subscription="py"} 0' in metrics
        assert "# TYPE queryleaf_subscription_up gauge" in metrics
        assert 'queryleaf_subscription_events_skipped_total{subscription="mirror"} 0' in metrics
        stored = subscription(conn, "mirror")
        p99 = stored["delivery_latency_p99_ms"] / 1000
        assert (
            f'queryleaf_subscription_delivery_latency_seconds{{subscription="mirror",'
            f'quantile="0.99"}} {p99}' in metrics
        )
        (lag_line,) = [
            line for line in metrics.splitlines() if line.startswith("queryleaf_subscription_lag")
        ]  # only mirror has a position; py never ran
        assert lag_line.startswith('queryleaf_subscription_lag_seconds{subscription="mirror"} ')
        assert 0 <= float(lag_line.split()[-1]) < 60
        worker.handle_signal(signal.SIGTERM, None)
        thread.join(10)
        assert not thread.is_alive() and codes == [0]
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(f"{base}/health", timeout=5)
        assert raised.value.code == 503
    finally:
        server.shutdown()
        server.server_close()
    assert lease(conn, "mirror") is None and not worker.runtime.running()
    log = err.getvalue()
    assert "subscription mirror started" in log and "subscription mirror stopped" in log
    assert "skipping subscription py" in log and log.count("skipping subscription py") == 1


def test_cli_dispatches_worker(capsys) -> None:
    assert cli.main(["worker", "--help"]) == 0
    assert "--metrics-port" in capsys.readouterr().out
    assert cli.main(["worker", "--bogus"]) == 2


def test_handlers_given_on_the_command_line(capsys) -> None:
    from queryleaf.shell.worker_command import load_handler, main

    assert load_handler("fmt=json:dumps") == ("fmt", json.dumps)
    assert load_handler("p=os.path:join")[1] is os.path.join
    for spec, problem in [
        ("nothing", "expected NAME=MODULE:CALLABLE"),
        ("h=no_such_module_here:f", "cannot import no_such_module_here"),
        ("h=json:no_such_function", "json has no no_such_function"),
        ("h=json:__name__", "json.__name__ is not callable"),
    ]:
        with pytest.raises(ValueError, match=problem):
            load_handler(spec)
    assert main(["--handler", "h=json:nope"]) == 2
    assert "json has no nope" in capsys.readouterr().err


def test_the_worker_runs_handler_subscriptions_it_has_a_handler_for(conn) -> None:
    seen: list[int] = []
    conn.register_handler("py", lambda event: seen.append(event["documentKey"]["_id"]))
    conn.run_sql(
        "CREATE EVENT_SUBSCRIPTION py AS "
        "(watch_collections = JSON_ARRAY('users'), deliver_to = 'handler:py')"
    )
    err = io.StringIO()
    worker = Worker(conn, err=err, lease_seconds=1.0, renew_seconds=0.2, scan_seconds=0.1)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: subscription(conn, "py")["resume_token"] is not None)
        conn.db.users.insert_one({"_id": 7})
        wait_for(lambda: seen == [7])
    finally:
        worker.stop_event.set()
        thread.join(10)
    assert "skipping" not in err.getvalue()


def test_a_runner_that_lost_its_lease_mid_delivery_cannot_commit(conn) -> None:
    seen: dict[str, list[tuple[str, int]]] = {"s": []}
    gate = threading.Event()
    conn.run_sql(
        "CREATE EVENT_SUBSCRIPTION s AS "
        "(watch_collections = JSON_ARRAY('orders'), deliver_to = 'handler:s')"
    )
    a = Runtime(Connection(conn.db), owner="A", leases=True, renew_seconds=60.0)
    b = Runtime(Connection(conn.db), owner="B", leases=True, renew_seconds=0.1)

    def held(event) -> None:  # A delivers, then pauses (a long GC, a partition) before commit
        seen["s"].append(("A", event["documentKey"]["_id"]))
        gate.wait(5)

    a.conn.register_handler("s", held)
    b.conn.register_handler("s", lambda e: seen["s"].append(("B", e["documentKey"]["_id"])))
    with a, b:
        assert a.start("s")
        wait_for(lambda: subscription(conn, "s")["resume_token"] is not None)
        conn.db.orders.insert_one({"_id": 1})
        wait_for(lambda: seen["s"] == [("A", 1)])
        past = subscription(conn, "s")["created_at"]
        conn.db.event_subscription_leases.update_one({"_id": "s"}, {"$set": {"expires_at": past}})
        assert b.start("s")  # B takes the expired lease and stamps the subscription
        wait_for(lambda: ("B", 1) in seen["s"])  # B delivers the uncommitted event again
        gate.set()
        wait_for(lambda: not a.is_running("s"))  # A's commit did not match: it stopped
        stored = wait_for(lambda: (d := subscription(conn, "s"))["events_delivered"] == 1 and d)
    assert seen["s"] == [("A", 1), ("B", 1)]
    assert stored["lease_owner"] == "B" and stored["events_received"] == 1


def test_a_runner_never_commits_into_a_subscription_created_again(conn) -> None:
    go, entered = threading.Event(), threading.Event()

    def held(event) -> None:
        entered.set()
        go.wait(5)

    conn.register_handler("h", held)
    conn.run_sql(
        "CREATE EVENT_SUBSCRIPTION s AS "
        "(watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:h')"
    )
    with Runtime(conn, leases=True) as runtime:
        runtime.start("s")
        conn.db.t.insert_one({"_id": 1})
        assert entered.wait(5)
        conn.run_sql("DROP EVENT_SUBSCRIPTION s")  # and created again, elsewhere
        conn.run_sql(
            "CREATE EVENT_SUBSCRIPTION s AS "
            "(watch_collections = JSON_ARRAY('other'), deliver_to = 'handler:h')"
        )
        go.set()
        time.sleep(0.5)  # the old runner's commit finds another definition
        stored = subscription(conn, "s")
    assert stored.get("events_delivered", 0) == 0 and stored.get("events_received", 0) == 0


def test_the_worker_waits_longer_for_a_server_than_the_shell(monkeypatch) -> None:
    # A service rides through an election; the shell's quick 2 s would fail deliveries.
    from queryleaf.shell import worker_command

    seen: list[float | None] = []

    def fake_connect(uri, database, connect_timeout=None):
        seen.append(connect_timeout)
        raise QueryLeafError("stop here", code="QL603")

    monkeypatch.setattr("queryleaf.connect", fake_connect)
    assert worker_command.main(["--uri", "mongodb://127.0.0.1:1/"]) == 1
    assert worker_command.main(["--uri", "mongodb://127.0.0.1:1/", "--connect-timeout", "5"]) == 1
    assert seen == [worker_command.WORKER_CONNECT_TIMEOUT, 5.0]
    assert worker_command.WORKER_CONNECT_TIMEOUT >= 10
    assert worker_command.main(["--connect-timeout", "nan"]) == 2
