"""Subscriptions of one runtime share a database change stream: one server-side stream, each
subscription's events routed to it in-process, each with its own position."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from queryleaf.engines.embedded.change_streams import configure_journal
from queryleaf.runtime import runner as runner_module
from queryleaf.runtime import shared_streams
from queryleaf.runtime.event_routes import shareable
from queryleaf.runtime.runtime import Runtime
from queryleaf.subscriptions.compile_stream import compile_subscription
from queryleaf.subscriptions.options import OPTIONS
from tests.conftest import TEST_URI
from tests.test_runtime import subscribe, subscription, wait_for


def collector(conn, name: str) -> list[tuple[str, object]]:
    seen: list[tuple[str, object]] = []
    conn.register_handler(name, lambda e: seen.append((e["ns"]["coll"], e["documentKey"]["_id"])))
    return seen


def streams(conn) -> list[dict]:
    return conn.run_sql(
        "SELECT kind, subscriptions FROM ACTIVE_CHANGE_STREAMS() ORDER BY kind"
    ).rows


def serving(conn, members: int) -> bool:
    """One shared stream, serving `members` subscriptions (the registry read once: a stream
    re-opened for a joining member is briefly absent)."""
    found = streams(conn)
    return len(found) == 1 and len(found[0]["subscriptions"]) == members


def test_subscriptions_share_one_stream_and_each_gets_its_own_events(conn) -> None:
    orders, big, everything = (collector(conn, n) for n in ("orders", "big", "everything"))
    subscribe(conn, "a", "watch_collections = JSON_ARRAY('orders'), deliver_to = 'handler:orders'")
    subscribe(
        conn,
        "b",
        "watch_collections = JSON_ARRAY('orders', 'stock'), deliver_to = 'handler:big', "
        "event_filter = 'event_data.qty >= 10'",
    )
    subscribe(conn, "c", "deliver_to = 'handler:everything', event_types = JSON_ARRAY('insert')")
    with Runtime(conn) as runtime:
        for name in ("a", "b", "c"):
            runtime.start(name)
        wait_for(lambda: serving(conn, 3))
        (row,) = streams(conn)
        assert row["kind"] == "shared" and sorted(row["subscriptions"]) == ["a", "b", "c"]
        conn.db.orders.insert_many([{"_id": 1, "qty": 5}, {"_id": 2, "qty": 50}])
        conn.db.stock.insert_one({"_id": 3, "qty": 12})
        conn.db.other.insert_one({"_id": 4})
        conn.db.orders.update_one({"_id": 1}, {"$set": {"qty": 20}})
        wait_for(lambda: len(orders) == 3 and len(big) == 3 and len(everything) == 4)
    assert orders == [("orders", 1), ("orders", 2), ("orders", 1)]
    assert big == [("orders", 2), ("stock", 3), ("orders", 1)]  # the update's fullDocument qty 20
    assert everything == [("orders", 1), ("orders", 2), ("stock", 3), ("other", 4)]
    counts = {n: subscription(conn, n)["events_delivered"] for n in ("a", "b", "c")}
    assert counts == {"a": 3, "b": 3, "c": 4}


def test_a_member_joining_behind_catches_up_and_the_others_see_nothing_twice(conn) -> None:
    early, late = collector(conn, "early"), collector(conn, "late")
    subscribe(conn, "early", "watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:early'")
    subscribe(conn, "late", "watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:late'")
    with Runtime(conn) as runtime:
        runtime.start("early")
        runtime.start("late")
        conn.db.t.insert_one({"_id": 1})
        wait_for(lambda: len(early) == 1 and len(late) == 1)
        runtime.stop("late")
        conn.db.t.insert_many([{"_id": 2}, {"_id": 3}])  # while late is stopped
        wait_for(lambda: len(early) == 3)
        runtime.start("late")  # its token is behind the stream: the stream reopens there
        conn.db.t.insert_one({"_id": 4})
        wait_for(lambda: len(early) == 4 and len(late) == 4)
    assert [key for _, key in early] == [1, 2, 3, 4]
    assert [key for _, key in late] == [1, 2, 3, 4]


def test_members_get_their_own_copy_of_an_event(conn) -> None:
    got: dict[str, list[dict]] = {"x": [], "y": []}

    def spoiler(event) -> None:
        event["fullDocument"]["v"] = "spoiled"
        got["x"].append(event)

    conn.register_handler("x", spoiler)
    conn.register_handler("y", lambda e: got["y"].append(e))
    subscribe(conn, "x", "watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:x'")
    subscribe(conn, "y", "watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:y'")
    with Runtime(conn) as runtime:
        runtime.start("x")
        runtime.start("y")
        conn.db.t.insert_one({"_id": 1, "v": "fresh"})
        wait_for(lambda: got["x"] and got["y"])
    assert got["y"][0]["fullDocument"]["v"] == "fresh"


def test_dropping_a_collection_ends_only_the_members_watching_it(conn) -> None:
    one, all_ = collector(conn, "one"), collector(conn, "all")
    subscribe(conn, "one", "watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:one'")
    subscribe(conn, "all", "deliver_to = 'handler:all'")
    with Runtime(conn) as runtime:
        runtime.start("one")
        runtime.start("all")
        conn.db.t.insert_one({"_id": 1})
        wait_for(lambda: len(one) == 1 and len(all_) == 1)
        conn.db.t.drop()
        stored = wait_for(lambda: (d := subscription(conn, "one"))["status"] == "invalidated" and d)
        conn.db.u.insert_one({"_id": 2})
        wait_for(lambda: len(all_) == 2)
    assert "dropped or renamed" in stored["status_reason"]
    assert subscription(conn, "all")["status"] == "active"
    assert all_ == [("t", 1), ("u", 2)]


def test_a_member_far_behind_detaches_and_continues_on_its_own_stream(conn, monkeypatch) -> None:
    monkeypatch.setattr(shared_streams, "QUEUE_LIMIT", 5)
    gate = threading.Event()
    slow: list[int] = []
    fast = collector(conn, "fast")

    def held(event) -> None:
        gate.wait(5)
        slow.append(event["documentKey"]["_id"])

    conn.register_handler("slow", held)
    subscribe(conn, "slow", "watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:slow'")
    subscribe(conn, "fast", "watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:fast'")
    with Runtime(conn) as runtime:
        runtime.start("slow")
        runtime.start("fast")
        wait_for(lambda: serving(conn, 2))
        for i in range(12):
            conn.db.t.insert_one({"_id": i})
            wait_for(lambda i=i: len(fast) == i + 1)  # the held one does not hold it up
        gate.set()
        wait_for(lambda: len(slow) == 12)
        kinds = wait_for(lambda: (k := sorted(r["kind"] for r in streams(conn))) and k)
    assert slow == list(range(12))
    assert kinds == ["shared", "subscription"]  # fast shares, slow reads its own stream


@pytest.mark.skipif(bool(TEST_URI), reason="shrinks the embedded engine's journal")
def test_lost_history_fails_only_the_member_whose_position_was_lost(conn) -> None:
    fresh = collector(conn, "fresh")
    collector(conn, "stale")
    subscribe(conn, "stale", "watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:stale'")
    subscribe(conn, "fresh", "watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:fresh'")
    with Runtime(conn) as runtime:
        runtime.start("stale")
        wait_for(lambda: subscription(conn, "stale")["resume_token"] is not None)
        runtime.stop("stale")
    configure_journal(conn.client, history_size=2)
    conn.db.t.insert_many([{"_id": i} for i in range(6)])  # more than the journal keeps
    # Stale's position is lost now. Room again: a journal of two changes would also lose the
    # runtime's own writes made while the stream reopens for fresh (a race, not the point).
    configure_journal(conn.client, history_size=10_000)
    with Runtime(conn) as runtime:
        runtime.start("fresh")
        wait_for(lambda: subscription(conn, "fresh")["resume_token"] is not None)
        runtime.start("stale")
        stored = wait_for(lambda: (d := subscription(conn, "stale"))["status"] == "failed" and d)
        conn.db.t.insert_one({"_id": 99})
        wait_for(lambda: fresh == [("t", 99)])
    assert stored["status_reason"].startswith("history lost")
    assert subscription(conn, "fresh")["status"] == "active"


def options(**given: object) -> dict:
    values = {key: spec.default for key, spec in OPTIONS.items()}
    values.update(given)
    return values


def test_what_can_share_a_stream() -> None:
    assert shareable(compile_subscription(options(watch_collections=["t"])))
    assert shareable(compile_subscription(options(event_filter={"fullDocument.qty": {"$gt": 1}})))
    # $expr is evaluated by the server only: such a subscription keeps a stream of its own.
    by_expression = options(event_filter={"$expr": {"$gt": ["$fullDocument.a", 1]}})
    assert not shareable(compile_subscription(by_expression))


def test_optional_pre_images_share_a_stream_and_only_those_who_asked_see_them(conn) -> None:
    conn.db.create_collection("t", changeStreamPreAndPostImages={"enabled": True})
    got: dict[str, list[dict]] = {"with": [], "without": [], "picky": []}
    for name in got:
        conn.register_handler(name, lambda e, n=name: got[n].append(e))
    events = "event_types = JSON_ARRAY('update')"
    subscribe(
        conn,
        "with",
        f"watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:with', {events}, "
        "full_document_before_change = 'whenAvailable'",
    )
    subscribe(
        conn,
        "without",
        f"watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:without', {events}",
    )
    # Without pre-images of its own, a condition on the pre-image never holds: shared or not.
    subscribe(
        conn,
        "picky",
        f"watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:picky', {events}, "
        "event_filter = JSON_OBJECT('fullDocumentBeforeChange.v', 1)",
    )
    with Runtime(conn) as runtime:
        for name in got:
            runtime.start(name)
        wait_for(lambda: serving(conn, 3))
        conn.db.t.insert_one({"_id": 1, "v": 1})
        conn.db.t.update_one({"_id": 1}, {"$set": {"v": 2}})
        wait_for(lambda: got["with"] and got["without"])
        assert len(streams(conn)) == 1
        update = got["with"][0]["_id"]["_data"]
        # picky's position moves past the update (saved while idle): it has seen it and let go.
        wait_for(lambda: subscription(conn, "picky")["resume_token"]["_data"] >= update)
    assert got["with"][0]["fullDocumentBeforeChange"] == {"_id": 1, "v": 1}
    assert "fullDocumentBeforeChange" not in got["without"][0]
    assert got["picky"] == []


def test_the_stream_survives_an_error_outside_reading(conn, monkeypatch) -> None:
    from pymongo.errors import AutoReconnect

    from queryleaf.runtime.active_streams import StreamRegistration

    monkeypatch.setattr(shared_streams, "REOPEN_SECONDS", 0.05)
    beat = StreamRegistration.beat
    failed = threading.Event()

    def flaky_beat(self, seen: int = 0) -> None:
        if seen and not failed.is_set():  # the heartbeat write fails during an election
            failed.set()
            raise AutoReconnect("not primary")
        beat(self, seen)

    monkeypatch.setattr(StreamRegistration, "beat", flaky_beat)
    seen = collector(conn, "h")
    subscribe(conn, "s", "watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:h'")
    with Runtime(conn) as runtime:
        runtime.start("s")
        conn.db.t.insert_one({"_id": 1})
        wait_for(failed.is_set)
        conn.db.t.insert_one({"_id": 2})
        wait_for(lambda: [key for _, key in seen] == [1, 2])
    assert "not primary" in subscription(conn, "s")["last_error"]


def test_a_quiet_member_moves_on_while_the_stream_is_busy(conn, monkeypatch) -> None:
    monkeypatch.setattr(shared_streams, "POSITION_SECONDS", 0.05)
    monkeypatch.setattr(runner_module, "IDLE_SAVE_SECONDS", 0.05)
    collector(conn, "busy")
    collector(conn, "quiet")
    subscribe(conn, "busy", "watch_collections = JSON_ARRAY('y'), deliver_to = 'handler:busy'")
    subscribe(conn, "quiet", "watch_collections = JSON_ARRAY('x'), deliver_to = 'handler:quiet'")
    with Runtime(conn) as runtime:
        runtime.start("busy")
        runtime.start("quiet")
        wait_for(lambda: serving(conn, 2))
        before = subscription(conn, "quiet")["resume_token"]["_data"]
        deadline = time.monotonic() + 5
        moved = False
        i = 0
        while not moved and time.monotonic() < deadline:  # never idle: a write every 5 ms
            conn.db.y.insert_one({"_id": i})
            i += 1
            time.sleep(0.005)
            moved = subscription(conn, "quiet")["resume_token"]["_data"] > before
    assert moved


def test_what_needs_a_stream_of_its_own() -> None:
    assert not shareable(compile_subscription(options(event_filter={"a": {"$mod": [2, 0]}})))
    assert not shareable(compile_subscription(options(full_document_before_change="required")))
    assert not shareable(compile_subscription(options(full_document="required")))
    assert shareable(compile_subscription(options(full_document_before_change="whenAvailable")))


def test_dates_in_a_shared_condition_compare_at_millisecond_precision(conn) -> None:
    precise = collector(conn, "precise")
    collector(conn, "other")
    subscribe(
        conn,
        "precise",
        "watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:precise', "
        "event_filter = 'event_data.at >= TIMESTAMP ''2024-01-01 00:00:00.000400'''",
    )
    subscribe(conn, "other", "watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:other'")
    with Runtime(conn) as runtime:
        runtime.start("precise")
        runtime.start("other")
        wait_for(lambda: serving(conn, 2))
        # BSON dates have milliseconds: the literal is 00:00:00.000 on the server as well.
        conn.db.t.insert_one({"_id": 1, "at": dt.datetime(2024, 1, 1)})
        wait_for(lambda: precise == [("t", 1)])


def test_renaming_a_collection_onto_a_watched_one_ends_its_member(conn) -> None:
    collector(conn, "h")
    collector(conn, "o")
    subscribe(conn, "s", "watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:h'")
    subscribe(conn, "other", "watch_collections = JSON_ARRAY('x'), deliver_to = 'handler:o'")
    conn.db.u.insert_one({"_id": 1})
    with Runtime(conn) as runtime:
        runtime.start("s")
        runtime.start("other")
        wait_for(lambda: serving(conn, 2))
        conn.db.u.rename("t")
        wait_for(lambda: subscription(conn, "s")["status"] == "invalidated")
    assert subscription(conn, "other")["status"] == "active"


def test_after_a_drop_a_restarted_subscription_continues_past_it(conn) -> None:
    seen = collector(conn, "h")
    collector(conn, "o")
    subscribe(conn, "s", "watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:h'")
    subscribe(conn, "other", "watch_collections = JSON_ARRAY('x'), deliver_to = 'handler:o'")
    with Runtime(conn) as runtime:
        runtime.start("s")
        runtime.start("other")
        conn.db.t.insert_one({"_id": 1})
        wait_for(lambda: seen == [("t", 1)])
        conn.db.t.drop()
        wait_for(lambda: subscription(conn, "s")["status"] == "invalidated")
    conn.run_sql("START EVENT_SUBSCRIPTION s")  # active again; runs here on its own stream
    conn.runtime.stop("s")
    with Runtime(conn, share_streams=False) as runtime:
        runtime.start("s")
        conn.db.t.insert_one({"_id": 2})
        wait_for(lambda: seen == [("t", 1), ("t", 2)])
    assert subscription(conn, "s")["status"] == "active"


def test_a_token_the_server_refuses_fails_the_subscription(conn) -> None:
    collector(conn, "h")
    subscribe(
        conn,
        "s",
        "watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:h', start_at = 'token:FF00'",
    )
    with Runtime(conn) as runtime:
        runtime.start("s")
        stored = wait_for(lambda: (d := subscription(conn, "s"))["status"] == "failed" and d)
    assert stored["status_reason"].startswith("invalid resume token")


def test_a_stop_takes_effect_after_the_delivery_in_flight(conn) -> None:
    delivered: list[int] = []

    def slow(event) -> None:
        time.sleep(0.05)
        delivered.append(event["documentKey"]["_id"])

    conn.register_handler("slow", slow)
    subscribe(conn, "s", "watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:slow'")
    with Runtime(conn) as runtime:
        runtime.start("s")
        wait_for(lambda: subscription(conn, "s")["resume_token"] is not None)
        conn.db.t.insert_many([{"_id": i} for i in range(40)])  # one window of 40
        wait_for(lambda: delivered)
        began = time.monotonic()
        runtime.stop("s")
        took = time.monotonic() - began
    stored = subscription(conn, "s")
    assert took < 1.0 and len(delivered) < 20
    # What was delivered before the stop is committed (counted once); the rest is not.
    assert stored["events_delivered"] == len(delivered)


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "private"])
def test_on_invalidate_continue_delivers_what_follows_the_drop(conn, shared) -> None:
    seen = collector(conn, "h")
    collector(conn, "o")
    subscribe(
        conn,
        "s",
        "watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:h', on_invalidate = 'continue'",
    )
    subscribe(conn, "other", "watch_collections = JSON_ARRAY('u'), deliver_to = 'handler:o'")
    with Runtime(conn, share_streams=shared) as runtime:
        runtime.start("s")
        runtime.start("other")
        conn.db.t.insert_one({"_id": 1})
        wait_for(lambda: seen == [("t", 1)])
        conn.db.t.drop()
        conn.db.t.insert_many([{"_id": 2}, {"_id": 3}])  # read in the same poll as the drop
        wait_for(lambda: len(seen) == 3)
    assert [key for _, key in seen] == [1, 2, 3]
    assert subscription(conn, "s")["status"] == "active"


def test_stop_all_keeps_to_its_timeout(conn) -> None:
    release = threading.Event()
    entered: list[str] = []
    for name in ("a", "b", "c"):
        conn.register_handler(name, lambda e, n=name: (entered.append(n), release.wait(30)))
        subscribe(conn, name, f"watch_collections = JSON_ARRAY('t'), deliver_to = 'handler:{name}'")
    runtime = Runtime(conn)
    try:
        for name in ("a", "b", "c"):
            runtime.start(name)
        conn.db.t.insert_one({"_id": 1})
        wait_for(lambda: len(entered) == 3)  # three handlers hang
        began = time.monotonic()
        runtime.stop_all(timeout=1.0)
        took = time.monotonic() - began
    finally:
        release.set()
    assert took < 1.5
