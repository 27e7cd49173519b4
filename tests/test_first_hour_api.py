"""The first hour of a new user, through the API: bit operators with MySQL's semantics,
TRUNCATE TABLE, carets at placeholders, a live query that sees the writes of the statements
before it, subscriptions that say whether they run, and a server that cannot be reached.
Result tests use the `conn` fixture, so they also run against a real replica set."""

from __future__ import annotations

import os
import socket
import time

import pytest
from bson import Decimal128

import queryleaf
from queryleaf.errors import BackendError, ParameterError, UnsupportedError

MAX = 2**64 - 1  # MySQL's ~0


def _number(value):
    return int(value.to_decimal()) if isinstance(value, Decimal128) else value


# --- bit operators ---------------------------------------------------------------------------

# (expression, a, b, MySQL's answer); MySQL: operands and results are unsigned 64-bit.
BIT_CASES = [
    ("a & b", 12, 10, 8),
    ("a | b", 12, 10, 14),
    ("a ^ b", 12, 10, 6),
    ("~a", 0, 0, MAX),
    ("~a", 5, 0, MAX - 5),
    ("a & b", -1, 5, 5),
    ("a | b", -1, 0, MAX),
    ("a ^ b", -1, 5, MAX - 5),
    ("a << 2", 12, 0, 48),
    ("a << 63", 1, 0, 2**63),
    ("a << 64", 1, 0, 0),
    ("a << 1", -1, 0, MAX - 1),
    ("a >> 1", 12, 0, 6),
    ("a >> 1", -1, 0, 2**63 - 1),
    ("a >> 60", -1, 0, 15),
    ("a >> 64", -1, 0, 0),
    ("a | b", 2.5, 0, 3),  # rounded half away from zero, as MySQL does
    ("a | b", -2.5, 0, MAX - 2),
    ("a & b", 2**63, MAX, 2**63),  # an unsigned operand above 2^63
]


@pytest.mark.parametrize(("expression", "a", "b", "expected"), BIT_CASES)
def test_bit_operators_follow_mysql(conn, expression, a, b, expected):
    a_value = Decimal128(str(a)) if a >= 2**63 else a
    b_value = Decimal128(str(b)) if b >= 2**63 else b
    conn.db.t.insert_one({"_id": 1, "a": a_value, "b": b_value})
    row = conn.run_sql(f"SELECT {expression} AS x FROM t").rows[0]
    assert _number(row["x"]) == expected


def test_bit_operators_pass_null_through_and_filter(conn):
    conn.db.t.insert_many([{"_id": 1, "a": 12}, {"_id": 2, "a": None}, {"_id": 3, "a": 3}])
    rows = conn.run_sql("SELECT _id, a & 4 AS x, ~a AS y FROM t ORDER BY _id").rows
    assert [(r["x"], _number(r["y"])) for r in rows] == [(4, MAX - 12), (None, None), (0, MAX - 3)]
    matched = conn.run_sql("SELECT _id FROM t WHERE a & 4 = 4").rows
    assert matched == [{"_id": 1}]


def test_a_shift_by_a_computed_amount_is_refused_with_a_caret(conn):
    with pytest.raises(UnsupportedError) as caught:
        conn.run_sql("SELECT a << b FROM t")
    assert caught.value.code == "QL201"
    assert caught.value.column == len("SELECT a << ") + 1


def test_the_plan_uses_mongodbs_bit_operators():
    with queryleaf.connect() as conn:
        text = conn.explain("SELECT a & b AS x, ~a AS y FROM t")
    assert "$bitAnd" in text and "$bitNot" in text


# --- TRUNCATE TABLE, hints, placeholders -----------------------------------------------------


def test_truncate_table_empties_the_collection_and_keeps_its_indexes(conn):
    conn.run_sql("INSERT INTO t (a) VALUES (1), (2), (3)")
    conn.run_sql("CREATE INDEX by_a ON t (a)")
    result = conn.run_sql("TRUNCATE TABLE t")
    assert result.rowcount == 3
    assert conn.db.t.count_documents({}) == 0
    assert "by_a" in [index["name"] for index in conn.db.t.list_indexes()]
    conn.run_sql("INSERT INTO t (a) VALUES (4)")
    assert conn.run_sql("TRUNCATE t").rowcount == 1


def test_truncate_of_several_tables_is_refused():
    with queryleaf.connect() as conn, pytest.raises(UnsupportedError) as caught:
        conn.run_sql("TRUNCATE a, b")
    assert caught.value.code == "QL206"


def test_an_unsupported_statement_names_everything_that_runs():
    with queryleaf.connect() as conn, pytest.raises(UnsupportedError) as caught:
        conn.run_sql("GRANT SELECT ON t TO someone")
    for word in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "CREATE", "EXPLAIN"):
        assert word in caught.value.hint
    assert "EVENT_SUBSCRIPTION" in caught.value.hint


@pytest.mark.parametrize(
    ("sql", "params", "code", "column"),
    [
        ("SELECT a FROM t WHERE a > ?", None, "QL401", 27),
        ("SELECT a FROM t WHERE b = 'x?' AND a > :low", None, "QL401", 40),
        ("SELECT a FROM t WHERE a > :low AND b = :high", {"low": 1}, "QL402", 40),
        ("SELECT a FROM t WHERE a > ? AND b = ?", [1], "QL402", 37),
    ],
)
def test_parameter_errors_point_at_the_placeholder(sql, params, code, column):
    with queryleaf.connect() as conn, pytest.raises(ParameterError) as caught:
        conn.run_sql(sql, params)
    assert caught.value.code == code
    assert caught.value.column == column
    assert sql[column - 1] in "?:"


# --- live queries see the writes before them -------------------------------------------------


def test_a_live_query_sees_the_write_of_the_statement_before_it(conn):
    result = conn.run_sql(
        "INSERT INTO orders (_id, total) VALUES (1, 250); "
        "SELECT event_type, document_key FROM CHANGE_STREAM_EVENTS('orders') "
        "EMIT CHANGES LIMIT 1",
        timeout=10,
    )
    assert result.rows == [{"event_type": "insert", "document_key": 1}]


def test_each_live_query_of_a_script_sees_the_writes_since_the_one_before(conn):
    results = list(
        conn.execute_script(
            "INSERT INTO orders (_id) VALUES (1); INSERT INTO orders (_id) VALUES (2); "
            "SELECT document_key FROM CHANGE_STREAM_EVENTS('orders') EMIT CHANGES LIMIT 2; "
            "INSERT INTO orders (_id) VALUES (3); "
            "SELECT document_key FROM CHANGE_STREAM_EVENTS('orders') EMIT CHANGES LIMIT 1"
        )
    )
    first, second = (r for r in results if r.live is not None)
    # Read in order, as a shell does: the second one starts after the first ended.
    assert [row["document_key"] for row in first.live(10)] == [1, 2]
    assert [row["document_key"] for row in second.live(10)] == [3]


def test_a_live_query_alone_starts_when_it_runs(conn):
    conn.run_sql("INSERT INTO orders (_id) VALUES (1)")
    rows = list(
        conn.stream_sql(
            "SELECT document_key FROM CHANGE_STREAM_EVENTS('orders') EMIT CHANGES LIMIT 1",
            timeout=0.5,
        )
    )
    assert rows == []  # the insert came before it: not seen


# --- subscriptions say whether they run ------------------------------------------------------


def _wait_until(check, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _status(conn, name):
    sql = "SELECT status, running, running_on FROM EVENT_SUBSCRIPTIONS() WHERE name = :n"
    return conn.run_sql(sql, {"n": name}).rows[0]


def test_create_says_not_started_and_start_runs_it(conn):
    created = conn.run_sql(
        "CREATE EVENT_SUBSCRIPTION billing AS (watch_collections = JSON_ARRAY('orders'))"
    )
    assert created.notices == [
        "billing: created, not started here (START EVENT_SUBSCRIPTION billing, or run queryleaf worker)"
    ]
    assert _status(conn, "billing") == {"status": "active", "running": False, "running_on": None}
    conn.run_sql("START EVENT_SUBSCRIPTION billing")
    assert _wait_until(lambda: _status(conn, "billing")["running"])
    row = _status(conn, "billing")
    assert row["running_on"] == f"{socket.gethostname()}:{os.getpid()}"
    conn.run_sql("STOP EVENT_SUBSCRIPTION billing")
    assert _wait_until(lambda: not _status(conn, "billing")["running"])


def test_auto_start_runs_it_at_once(conn):
    created = conn.run_sql(
        "CREATE EVENT_SUBSCRIPTION copies AS (watch_collections = JSON_ARRAY('orders'), "
        "deliver_to = 'collection:order_copies', auto_start = TRUE)"
    )
    assert created.notices == ["copies: created and started in this process (auto_start)"]
    assert _wait_until(lambda: _status(conn, "copies")["running"])
    conn.run_sql("INSERT INTO orders (_id, total) VALUES (1, 5)")
    assert _wait_until(lambda: conn.db.order_copies.count_documents({}) == 1)


def test_a_subscription_run_by_a_worker_shows_the_worker(conn):
    from queryleaf.runtime import Runtime

    conn.run_sql("CREATE EVENT_SUBSCRIPTION audit AS (watch_collections = JSON_ARRAY('orders'))")
    runtime = Runtime(conn, leases=True)
    try:
        assert runtime.start("audit")
        assert _wait_until(lambda: _status(conn, "audit")["running"])
        row = _status(conn, "audit")
        assert row["running_on"] == f"{socket.gethostname()}:{os.getpid()} (worker)"
    finally:
        runtime.stop_all()
    assert _wait_until(lambda: not _status(conn, "audit")["running"])


# --- a server that cannot be reached ---------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_server_fails_fast_with_host_port_and_no_caret():
    port = _closed_port()
    started = time.monotonic()
    with (
        queryleaf.connect(f"mongodb://127.0.0.1:{port}") as conn,
        pytest.raises(BackendError) as caught,
    ):
        conn.run_sql("SELECT 1 AS one FROM t")
    elapsed = time.monotonic() - started
    error = caught.value
    assert error.code == "QL603"
    assert error.message.startswith(f"cannot reach MongoDB at 127.0.0.1:{port}: ")
    assert "refused" in error.message.lower()
    assert error.line is None and error.excerpt is None
    assert "URI" in error.hint
    assert elapsed < 3.0  # the default is 2 s of looking for the server


def test_the_connect_timeout_is_configurable():
    started = time.monotonic()
    uri = f"mongodb://127.0.0.1:{_closed_port()}"
    with queryleaf.connect(uri, connect_timeout=0.3) as conn, pytest.raises(BackendError):
        conn.run_sql("SELECT 1 AS one FROM t")
    assert time.monotonic() - started < 1.5
