"""The runtime under stream failures: history lost, invalidation, a resumable error; and the
event log's retrying status and business columns. Every wait is bounded."""

from __future__ import annotations

import threading
import time

import pytest
from pymongo.errors import OperationFailure

from queryleaf.engines.embedded.change_streams import configure_journal
from queryleaf.runtime import runner as runner_module
from queryleaf.runtime import shared_streams
from queryleaf.runtime.runtime import Runtime
from tests.case_files import SEED_DIR
from tests.conftest import TEST_URI
from tests.test_runtime import FAST, subscribe, subscription, wait_for

embedded_only = pytest.mark.skipif(
    bool(TEST_URI), reason="shrinks the embedded engine's journal to lose history on purpose"
)


@embedded_only
def test_history_lost_fails_the_subscription_with_its_reason(conn) -> None:
    delivered: list[int] = []
    conn.register_handler("h", lambda e: delivered.append(e["documentKey"]["_id"]))
    subscribe(conn, "s", "watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:h'")
    with Runtime(conn) as runtime:
        runtime.start("s")
        conn.db.t.insert_one({"_id": 1})
        wait_for(lambda: delivered == [1])
        runtime.stop("s")
    configure_journal(conn.client, history_size=2)
    conn.db.t.insert_many([{"_id": i} for i in range(2, 8)])  # more than the journal keeps
    with Runtime(conn) as runtime:
        runtime.start("s")
        stored = wait_for(lambda: (d := subscription(conn, "s"))["status"] == "failed" and d)
    assert stored["status_reason"].startswith("history lost")
    assert delivered == [1]  # nothing after the gap was delivered as if nothing was lost


@embedded_only
def test_history_lost_can_restart_from_now_and_says_so(conn) -> None:
    delivered: list[int] = []
    conn.register_handler("h", lambda e: delivered.append(e["documentKey"]["_id"]))
    subscribe(
        conn,
        "s",
        "watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:h', "
        "on_history_lost = 'restart_from_now'",
    )
    with Runtime(conn) as runtime:
        runtime.start("s")
        conn.db.t.insert_one({"_id": 1})
        wait_for(lambda: delivered == [1])
        runtime.stop("s")
    configure_journal(conn.client, history_size=2)
    conn.db.t.insert_many([{"_id": i} for i in range(2, 8)])
    with Runtime(conn) as runtime:
        runtime.start("s")
        wait_for(lambda: "restarted from now" in (subscription(conn, "s")["status_reason"] or ""))
        # A journal of two changes loses the runtime's own writes too: room again, then write
        # once the new stream is open (listed in ACTIVE_CHANGE_STREAMS()).
        configure_journal(conn.client, history_size=10_000)
        wait_for(lambda: subscription(conn, "s")["resume_token"] is not None)
        wait_for(lambda: conn.db.active_change_streams.find_one({"subscriptions": "s"}))
        conn.db.t.insert_one({"_id": 99})
        wait_for(lambda: 99 in delivered)
    assert subscription(conn, "s")["status"] == "active"
    assert delivered == [1, 99]


def test_invalidate_stops_the_subscription_by_default(conn) -> None:
    conn.db.t.insert_one({"_id": 0})
    conn.register_handler("h", lambda e: None)
    subscribe(conn, "s", "watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:h'")
    with Runtime(conn) as runtime:
        runtime.start("s")
        wait_for(lambda: subscription(conn, "s")["resume_token"] is not None)
        conn.db.t.drop()
        stored = wait_for(lambda: (d := subscription(conn, "s"))["status"] == "invalidated" and d)
    assert "dropped or renamed" in stored["status_reason"]


class FlakyCursor:
    """A change stream that fails once, with an error MongoDB labels resumable, when `fail`
    says so."""

    def __init__(self, cursor, fail) -> None:
        self.cursor, self.fail = cursor, fail

    def try_next(self):
        if self.fail():
            raise OperationFailure("connection reset", code=6)  # HostUnreachable: resumable
        return self.cursor.try_next()

    def __getattr__(self, name):
        return getattr(self.cursor, name)


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "private"])
def test_a_resumable_stream_error_reopens_without_loss(conn, monkeypatch, shared) -> None:
    monkeypatch.setattr(runner_module, "REOPEN_SECONDS", 0.05)
    monkeypatch.setattr(shared_streams, "REOPEN_SECONDS", 0.05)
    delivered: list[int] = []
    conn.register_handler("h", lambda e: delivered.append(e["documentKey"]["_id"]))
    subscribe(conn, "s", "watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:h'")
    failed = threading.Event()

    def fail_once() -> bool:
        if delivered == [0, 1] and not failed.is_set():
            failed.set()
            return True
        return False

    if shared:
        open_shared = shared_streams.SharedStream._open

        def flaky_open(self, members):
            cursor, registration = open_shared(self, members)
            return FlakyCursor(cursor, fail_once), registration

        monkeypatch.setattr(shared_streams.SharedStream, "_open", flaky_open)
    else:
        private = runner_module.PrivateSource

        class FlakySource(private):
            def __init__(self, cursor, registration) -> None:
                super().__init__(FlakyCursor(cursor, fail_once), registration)

        monkeypatch.setattr(runner_module, "PrivateSource", FlakySource)
    with Runtime(conn, share_streams=shared) as runtime:
        runtime.start("s")
        conn.db.t.insert_many([{"_id": 0}, {"_id": 1}])
        wait_for(failed.is_set)
        conn.db.t.insert_many([{"_id": 2}, {"_id": 3}])
        wait_for(lambda: len(delivered) >= 4)
        kinds = {row["kind"] for row in conn.db.active_change_streams.find()}
    assert delivered == [0, 1, 2, 3]
    assert kinds == {"shared" if shared else "subscription"}
    assert "connection reset" in subscription(conn, "s")["last_error"]
    assert subscription(conn, "s")["status"] == "active"


def test_retrying_status_and_business_columns_in_the_event_log(conn) -> None:
    gate = threading.Event()
    seen: list[str] = []

    def handler(event) -> None:
        seen.append("call")
        if not gate.is_set():
            raise RuntimeError("not yet")

    conn.register_handler("h", handler)
    subscribe(
        conn,
        "s",
        "watch_collections = JSON_ARRAY('orders'), deliver_to = 'handler:h', "
        "max_retry_attempts = 50, retry_delay_ms = 20, exponential_backoff = FALSE, "
        "correlation_id_field = 'meta.cid', source_service_field = 'origin'",
    )
    with Runtime(conn) as runtime:
        runtime.start("s")
        conn.db.orders.insert_one({"_id": 1, "meta": {"cid": "c-1"}, "origin": "shop"})
        status = "SELECT processing_status, retry_count FROM CHANGE_STREAM_EVENTS('orders')"
        row = wait_for(
            lambda: (
                (r := conn.run_sql(status).rows)
                and r[0]["processing_status"] == "retrying"
                and r[0]
            )
        )
        assert row["retry_count"] >= 1
        gate.set()
        wait_for(lambda: conn.run_sql(status).rows[0]["processing_status"] == "completed")
    logged = conn.run_sql(
        "SELECT correlation_id, source_service, target_service FROM CHANGE_STREAM_EVENTS()"
    ).rows
    assert logged == [{"correlation_id": "c-1", "source_service": "shop", "target_service": None}]
    assert (
        conn.db.change_stream_events.index_information()["processing_started_at_1"][
            "expireAfterSeconds"
        ]
        == 7 * 24 * 3600
    )


def test_event_subscriptions_shows_latency_and_lag(conn) -> None:
    conn.register_handler("h", lambda e: None)
    subscribe(conn, "s", "watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:h'")
    with Runtime(conn) as runtime:
        runtime.start("s")
        conn.db.t.insert_many([{"_id": i} for i in range(5)])
        wait_for(lambda: subscription(conn, "s")["events_delivered"] == 5)
    (row,) = conn.run_sql(
        "SELECT events_received, events_delivered, delivery_latency_p50_ms AS p50, "
        "delivery_latency_p99_ms AS p99, resume_token_lag_seconds AS lag, status "
        "FROM EVENT_SUBSCRIPTIONS()"
    ).rows
    assert row["events_received"] == 5 and row["status"] == "active"
    assert 0 <= row["p50"] <= row["p99"] < 5000
    assert 0 <= row["lag"] < 60


def test_without_preserve_order_documents_run_in_parallel_in_order_each(conn) -> None:
    lock = threading.Lock()
    active = {"now": 0, "most": 0}
    seen: dict[int, list[int]] = {}
    release = threading.Event()

    def handler(event) -> None:
        key = event["documentKey"]["_id"]
        with lock:
            active["now"] += 1
            active["most"] = max(active["most"], active["now"])
        release.wait(0.2)  # hold the delivery so others can overlap
        with lock:
            # updateLookup reads the document as it is now: the change itself says which.
            changed = (event.get("updateDescription") or {}).get("updatedFields")
            seen.setdefault(key, []).append((changed or event["fullDocument"])["v"])
            active["now"] -= 1

    conn.register_handler("h", handler)
    subscribe(
        conn,
        "s",
        "watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:h', "
        "preserve_order = FALSE, batch_size = 20",
    )
    with Runtime(conn) as runtime:
        runtime.start("s")
        wait_for(lambda: subscription(conn, "s")["resume_token"] is not None)
        for key in range(4):
            conn.db.t.insert_one({"_id": key, "v": 0})
        for version in (1, 2):
            for key in range(4):
                conn.db.t.update_one({"_id": key}, {"$set": {"v": version}})
        wait_for(lambda: subscription(conn, "s")["events_delivered"] == 12, timeout=10)
    assert seen == {key: [0, 1, 2] for key in range(4)}  # each document in its own order
    assert active["most"] > 1  # different documents were delivered at the same time
    stored = subscription(conn, "s")
    assert stored["events_received"] == 12


def test_the_seed_subscription_end_to_end(conn, tmp_path) -> None:

    seed = (SEED_DIR / "user_service_events.sql").read_text()
    conn.run_sql(seed)
    out = tmp_path / "events.ndjson"
    conn.run_sql(f"ALTER EVENT_SUBSCRIPTION user_service_events SET (deliver_to = 'log:{out}')")
    conn.run_sql("START EVENT_SUBSCRIPTION user_service_events")
    wait_for(lambda: subscription(conn, "user_service_events")["resume_token"] is not None)
    conn.db.users.insert_one({"_id": 1, "email": "a@x", "status": "new"})
    conn.db.users.update_one({"_id": 1}, {"$set": {"email": "b@x"}})  # a watched field
    conn.db.users.update_one({"_id": 1}, {"$set": {"nickname": "ada"}})  # not watched
    conn.db.user_profiles.insert_one({"_id": 7})
    conn.db.orders.insert_one({"_id": 9})  # not a watched collection
    conn.db.users.delete_one({"_id": 1})  # the seed's filter drops deletes (it warns)
    wait_for(lambda: subscription(conn, "user_service_events")["events_delivered"] == 3)
    conn.run_sql("STOP EVENT_SUBSCRIPTION user_service_events")
    import json

    lines = [json.loads(line) for line in out.read_text().splitlines()]
    kinds = [(e["operationType"], e["ns"]["coll"]) for e in lines]
    assert kinds == [("insert", "users"), ("update", "users"), ("insert", "user_profiles")]
    logged = conn.run_sql(
        "SELECT subscription_id, service_name, COUNT(*) AS n FROM CHANGE_STREAM_EVENTS() "
        "WHERE processing_status = 'completed' GROUP BY subscription_id, service_name"
    ).rows
    assert logged == [
        {"subscription_id": "user_lifecycle_events", "service_name": "user_service", "n": 3}
    ]


def test_drop_and_alter_reach_a_running_runner(conn) -> None:
    first: list[int] = []
    second: list[int] = []
    conn.register_handler("h1", lambda e: first.append(e["documentKey"]["_id"]))
    conn.register_handler("h2", lambda e: second.append(e["documentKey"]["_id"]))
    subscribe(conn, "s", "watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:h1'")
    with Runtime(conn) as runtime:  # not conn.runtime: it learns of changes from the database
        runtime.start("s")
        conn.db.t.insert_one({"_id": 1})
        wait_for(lambda: first == [1])
        conn.run_sql("ALTER EVENT_SUBSCRIPTION s SET (deliver_to = 'handler:h2')")
        wait_for(lambda: subscription(conn, "s")["resume_token"] is not None)
        time.sleep(1.2)  # the runner rereads its definition at most once a second
        conn.db.t.insert_one({"_id": 2})
        wait_for(lambda: second == [2])
        conn.run_sql("DROP EVENT_SUBSCRIPTION s")
        wait_for(lambda: not runtime.is_running("s"))
    assert first == [1] and second == [2]


def test_a_redelivered_window_dead_letters_each_event_once(conn) -> None:
    from queryleaf.runtime.delivery import Outcome, dead_letter

    event = {"_id": {"_data": "abc"}, "operationType": "insert", "documentKey": {"_id": 1}}
    subscription_doc = {"subscription_id": "sid", "service_name": None}
    for _ in range(2):  # the same event settled twice (a window delivered again)
        dead_letter(conn.db, subscription_doc, event, Outcome(delivered=False, attempts=2))
    assert conn.db.dead_letter_events.count_documents({}) == 1


def test_start_waits_for_a_stopped_runner_still_delivering(conn) -> None:
    release = threading.Event()
    calls: list[int] = []

    def slow(event) -> None:
        calls.append(event["documentKey"]["_id"])
        release.wait(5)

    conn.register_handler("h", slow)
    subscribe(conn, "s", "watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:h'")
    runtime = Runtime(conn)
    runtime.start("s")
    wait_for(lambda: subscription(conn, "s")["resume_token"] is not None)
    conn.db.t.insert_one({"_id": 0})
    wait_for(lambda: calls == [0])
    assert runtime.stop("s", timeout=0.2)  # returns while the delivery still runs
    assert runtime.start("s") is False  # not a second runner beside it
    release.set()
    runtime.stop_all()
    assert calls == [0]


def test_a_handler_past_processing_timeout_ms_fails_and_the_next_one_runs(conn) -> None:
    release = threading.Event()
    calls: list[int] = []

    def handler(event) -> None:
        calls.append(event["documentKey"]["_id"])
        if event["documentKey"]["_id"] == 1:
            release.wait(10)  # hangs past the deadline

    conn.register_handler("h", handler)
    subscribe(
        conn,
        "s",
        "watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:h', "
        "processing_timeout_ms = 100, max_retry_attempts = 1, retry_delay_ms = 10, "
        "exponential_backoff = FALSE",
    )
    with Runtime(conn) as runtime:
        runtime.start("s")
        wait_for(lambda: subscription(conn, "s")["resume_token"] is not None)
        conn.db.t.insert_many([{"_id": 1}, {"_id": 2}])
        stored = wait_for(lambda: (d := subscription(conn, "s"))["events_received"] == 2 and d)
        release.set()
    assert calls == [1, 1, 2]  # the attempt and its retry timed out, then the next event ran
    assert (stored["events_dead_lettered"], stored["events_delivered"]) == (1, 1)
    (letter,) = conn.run_sql("SELECT error FROM DEAD_LETTER_EVENTS()").rows
    assert "did not return within 100 ms" in letter["error"]


def test_what_a_handler_changes_stays_with_the_handler(conn) -> None:
    def vandal(event) -> None:
        event["fullDocument"]["v"] = "changed"
        event["documentKey"]["_id"] = "changed"
        raise RuntimeError("and failed")

    conn.register_handler("h", vandal)
    subscribe(conn, "s", f"watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:h', {FAST}")
    with Runtime(conn) as runtime:
        runtime.start("s")
        wait_for(lambda: subscription(conn, "s")["resume_token"] is not None)
        conn.db.t.insert_one({"_id": 1, "v": "original"})
        wait_for(lambda: subscription(conn, "s").get("events_dead_lettered") == 1)
    row = conn.db.change_stream_events.find_one()
    assert (row["document_key"], row["event_data"]["v"]) == (1, "original")
    letter = conn.db.dead_letter_events.find_one()
    assert letter["event"]["fullDocument"] == {"_id": 1, "v": "original"}


def test_event_log_failures_keeps_the_row_of_an_event_a_retry_delivered(conn) -> None:
    attempts: list[int] = []

    def second_time_lucky(event) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("first attempt fails")

    conn.register_handler("h", second_time_lucky)
    subscribe(
        conn,
        "s",
        f"watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:h', {FAST}, "
        "event_log = 'failures'",
    )
    with Runtime(conn) as runtime:
        runtime.start("s")
        wait_for(lambda: subscription(conn, "s")["resume_token"] is not None)
        conn.db.t.insert_many([{"_id": 1}, {"_id": 2}])
        wait_for(lambda: subscription(conn, "s").get("events_delivered") == 2)
    rows = conn.run_sql(
        "SELECT document_key, processing_status, retry_count FROM CHANGE_STREAM_EVENTS()"
    ).rows
    assert rows == [{"document_key": 1, "processing_status": "completed", "retry_count": 1}]


def test_a_stop_during_a_retry_wait_leaves_no_retrying_row(conn) -> None:
    failing = [True]

    def handler(event) -> None:
        if failing[0]:
            raise RuntimeError("down")

    conn.register_handler("h", handler)
    subscribe(
        conn,
        "s",
        "watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:h', event_log = 'failures', "
        "max_retry_attempts = 3, retry_delay_ms = 60000",
    )
    with Runtime(conn) as runtime:
        runtime.start("s")
        conn.db.t.insert_one({"_id": 1})
        wait_for(lambda: conn.db.change_stream_events.find_one({"processing_status": "retrying"}))
        runtime.stop("s", timeout=3)  # ends the 60 s wait: not delivered, not dead
        assert conn.db.change_stream_events.count_documents({}) == 0
        failing[0] = False
        runtime.start("s")
        wait_for(lambda: subscription(conn, "s").get("events_delivered") == 1)
    # Delivered at its first attempt this time: with event_log = 'failures', no row at all.
    assert conn.db.change_stream_events.count_documents({}) == 0
