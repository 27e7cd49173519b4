"""Read-only mode (--read-only): every read runs (SHOW, DESCRIBE, EXPLAIN, table functions,
live queries), every write is refused, and nothing the session does writes, its own
bookkeeping included: a live query's ACTIVE_CHANGE_STREAMS() row stays in memory."""

from __future__ import annotations

import threading
import time

import pytest

import queryleaf
from queryleaf.errors import QueryLeafError
from queryleaf.shell import cli
from queryleaf.shell.safety import ReadOnlyError, run_script

READS = [
    "SHOW TABLES",
    "SHOW INDEXES FROM u",
    "DESCRIBE u",
    "EXPLAIN SELECT * FROM u",
    "EXPLAIN DELETE FROM u",
    "SELECT * FROM u WHERE a > 0",
    "WITH x AS (SELECT a FROM u) SELECT * FROM x",
    "SELECT a FROM u UNION SELECT a FROM u",
    "SHOW EVENT_SUBSCRIPTIONS",
    "SELECT * FROM EVENT_SUBSCRIPTIONS()",
    "SELECT * FROM CHANGE_STREAM_EVENTS() LIMIT 1",
    "SELECT * FROM ACTIVE_CHANGE_STREAMS()",
    "SELECT * FROM DEAD_LETTER_EVENTS()",
]
WRITES = [
    "INSERT INTO u (a) VALUES (2)",
    "UPDATE u SET a = 2",
    "DELETE FROM u",
    "CREATE TABLE v (a INT)",
    "CREATE INDEX i ON u (a)",
    "DROP TABLE u",
    "CREATE EVENT_SUBSCRIPTION s AS (watch_collections = JSON_ARRAY('u'))",
]


def snapshot(conn: queryleaf.Connection) -> dict[str, list]:
    return {
        name: list(conn.db[name].find({}, sort=[("_id", 1)]))
        for name in sorted(conn.db.list_collection_names())
    }


@pytest.fixture
def ro(conn):
    conn.run_sql("INSERT INTO u (_id, a) VALUES (1, 1)")
    conn.read_only = True
    return conn


@pytest.mark.parametrize("sql", READS)
def test_every_read_runs(ro, sql: str) -> None:
    before = snapshot(ro)
    list(run_script(ro, sql, read_only=True))
    assert snapshot(ro) == before


@pytest.mark.parametrize("sql", WRITES)
def test_every_write_is_refused(ro, sql: str) -> None:
    before = snapshot(ro)
    with pytest.raises(ReadOnlyError) as caught:
        list(run_script(ro, sql, read_only=True))
    assert caught.value.code == "QL701"
    assert snapshot(ro) == before


def test_a_live_query_writes_no_bookkeeping(ro) -> None:
    before = snapshot(ro)
    rows = ro.run_sql(
        "SELECT event_type FROM CHANGE_STREAM_EVENTS() EMIT CHANGES LIMIT 1", timeout=0.3
    ).rows
    assert rows == []
    assert snapshot(ro) == before
    assert "active_change_streams" not in ro.db.list_collection_names()


def test_a_writable_live_query_still_announces_itself(conn) -> None:
    rows: list[dict] = []
    sql = "SELECT event_type FROM CHANGE_STREAM_EVENTS() EMIT CHANGES LIMIT 1"
    reader = threading.Thread(
        target=lambda: rows.extend(conn.stream_sql(sql, timeout=10)), daemon=True
    )
    reader.start()
    announced = False
    for _ in range(200):  # up to 10 s for the stream to open
        if conn.db.active_change_streams.count_documents({}) == 1:
            announced = True
            break
        time.sleep(0.05)
    conn.run_sql("INSERT INTO u (a) VALUES (1)")
    reader.join(timeout=15)
    assert announced
    assert rows == [{"event_type": "insert"}]
    assert conn.db.active_change_streams.count_documents({}) == 0


def test_select_into_is_refused_with_a_hint(conn) -> None:
    conn.run_sql("INSERT INTO u (a) VALUES (1)")
    for sql in ("SELECT * INTO t FROM u", "SELECT a FROM u UNION SELECT a INTO t FROM u"):
        with pytest.raises(QueryLeafError) as caught:
            conn.run_sql(sql)
        assert caught.value.code == "QL201"
        assert "INSERT INTO t SELECT" in (caught.value.hint or "")
    assert "t" not in conn.db.list_collection_names()


def test_the_cli_read_only_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--read-only", "-e", "SHOW TABLES; DESCRIBE missing_t"]) == 1
    assert "QL341" in capsys.readouterr().err  # DESCRIBE ran (and found no table)
    assert cli.main(["--read-only", "-e", "INSERT INTO t (a) VALUES (1)"]) == 1
    assert "QL701" in capsys.readouterr().err
