"""Real PostgreSQL clients against `PgServer`: psycopg 3, pg8000, asyncpg, SQLAlchemy 2 (with
each driver), pandas, and the catalog statements real clients sent to a real PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from queryleaf.pgwire.catalog_tables import relation_oid
from queryleaf.pgwire.server import PgServer
from tests.pgwire_support import USERS_SQL, client, dsn, pg_server

psycopg = client("psycopg")
CORPUS = pathlib.Path(__file__).parent / "data" / "pgwire_client_catalog_queries.json"


@pytest.fixture(scope="module")
def server() -> Iterator[PgServer]:
    with pg_server() as running:
        assert running.shared is not None
        running.shared.base.run_sql(USERS_SQL)
        yield running


def connect(server: PgServer, **extra: Any) -> Any:
    return psycopg.connect(**dsn(server), autocommit=True, connect_timeout=5, **extra)


# --- psycopg 3 -------------------------------------------------------------------------------


def test_psycopg_simple_and_parameterized_queries(server: PgServer) -> None:
    with connect(server) as conn:
        rows = conn.execute("SELECT name, age FROM users WHERE age > %s ORDER BY age", [40])
        assert rows.fetchall() == [("alan", 41), ("grace", 85)]
        cursor = conn.execute("SELECT name, address FROM users WHERE name = %s", ["ada"])
        assert cursor.fetchall() == [("ada", {"city": "London"})]
        assert [column.name for column in cursor.description] == ["name", "address"]
        shout = conn.execute("SELECT name || '!' AS shout FROM users WHERE age < 40")
        assert shout.fetchall() == [("ada!",)]  # PostgreSQL's || concatenates
        cast = conn.execute("SELECT \"name\", age::text AS age FROM users WHERE name ILIKE 'AD%'")
        assert cast.fetchall() == [("ada", "36")]


def test_psycopg_server_side_binding_prepared_and_binary(server: PgServer) -> None:
    with connect(server) as conn:
        cursor = conn.cursor(binary=True)
        for _ in range(3):  # prepare_threshold: the third run uses a named prepared statement
            cursor.execute(
                "SELECT name, age, active FROM users WHERE age >= %s ORDER BY age", [41],
                prepare=True,
            )  # fmt: skip
            assert cursor.fetchall() == [("alan", 41, False), ("grace", 85, True)]


def test_psycopg_writes_report_honest_row_counts(server: PgServer) -> None:
    with connect(server) as conn:
        cursor = conn.execute("INSERT INTO pg_counts (a) VALUES (1), (2), (3)")
        assert (cursor.statusmessage, cursor.rowcount) == ("INSERT 0 3", 3)
        cursor = conn.execute("UPDATE pg_counts SET a = 0 WHERE a >= %s", [2])
        assert (cursor.statusmessage, cursor.rowcount) == ("UPDATE 2", 2)
        cursor = conn.execute("DELETE FROM pg_counts")
        assert (cursor.statusmessage, cursor.rowcount) == ("DELETE 3", 3)


def test_psycopg_errors_carry_sqlstate_and_position(server: PgServer) -> None:
    with connect(server) as conn:
        with pytest.raises(psycopg.errors.UndefinedFunction) as caught:
            conn.execute("SELECT nosuch(age) FROM users")
        assert caught.value.diag.statement_position == "8"
        assert "QL302" in caught.value.diag.message_primary
        assert conn.execute("SELECT 1 AS one").fetchone() == (1,)


def test_psycopg_default_transactions_read_then_rollback(server: PgServer) -> None:
    with psycopg.connect(**dsn(server)) as conn:  # not autocommit: BEGIN is sent implicitly
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (3,)
        conn.rollback()


def test_psycopg_listen_delivers_a_subscriptions_events(server: PgServer) -> None:
    with connect(server) as conn:
        conn.execute(
            "CREATE EVENT_SUBSCRIPTION pg_orders AS ("
            "watch_collections = JSON_ARRAY('pg_orders'), event_types = JSON_ARRAY('insert'))"
        )
        conn.execute("LISTEN pg_orders")
        with connect(server) as writer:
            writer.execute("INSERT INTO pg_orders (n, note) VALUES (1, %s)", ["small"])
            writer.execute("INSERT INTO pg_orders (n, note) VALUES (2, %s)", ["x" * 9000])
        got = list(conn.notifies(timeout=5, stop_after=2))
        assert [n.channel for n in got] == ["pg_orders", "pg_orders"]
        first = json.loads(got[0].payload)
        assert first["operationType"] == "insert" and first["fullDocument"]["note"] == "small"
        second = json.loads(got[1].payload)
        assert len(got[1].payload.encode()) < 8000
        assert second["truncated"] is True and second["size"] > 9000
        with pytest.raises(psycopg.errors.UndefinedObject):
            conn.execute("LISTEN no_such_subscription")


def test_live_query_streams_rows_until_limit_and_stops_on_cancel(server: PgServer) -> None:
    with connect(server) as conn:

        def write() -> None:
            time.sleep(0.3)
            with connect(server) as writer:
                writer.execute("INSERT INTO pg_live (n) VALUES (1), (2)")

        worker = threading.Thread(target=write, daemon=True)
        worker.start()
        rows = conn.execute(
            "SELECT event_type, event_data.n AS n FROM CHANGE_STREAM_EVENTS('pg_live') "
            "EMIT CHANGES LIMIT 2"
        ).fetchall()
        worker.join(5)
        assert rows == [("insert", "1"), ("insert", "2")]  # live columns are described as text
        timer = threading.Timer(0.3, lambda: conn.cancel_safe(timeout=5))
        timer.start()
        started = time.monotonic()
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute("SELECT event_type FROM CHANGE_STREAM_EVENTS('pg_live') EMIT CHANGES")
        assert time.monotonic() - started < 5
        assert conn.execute("SELECT 1 AS one").fetchone() == (1,)


def test_catalog_statements_real_clients_send_all_run(server: PgServer) -> None:
    statements = json.loads(CORPUS.read_text())
    users_oid = str(relation_oid("users"))
    with connect(server) as conn:
        for statement in statements:
            sql = statement["sql"].replace("16384", users_oid)
            conn.execute(sql)  # raises on any error
        tables = conn.execute(statements[5]["sql"]).fetchall()
        assert ("users",) in tables
        columns = conn.execute(statements[9]["sql"].replace("16384", users_oid)).fetchall()
        assert [(c[0], c[1]) for c in columns[:4]] == [
            ("_id", "text"), ("name", "text"), ("age", "bigint"), ("active", "boolean"),
        ]  # fmt: skip


# --- pg8000, asyncpg ---------------------------------------------------------------------------


def test_pg8000_native_queries(server: PgServer) -> None:
    pg8000 = client("pg8000.native")
    conn = pg8000.Connection("ql", host="127.0.0.1", port=server.port, database="queryleaf")
    try:
        rows = conn.run("SELECT name, age FROM users WHERE age > :a ORDER BY age", a=40)
        assert rows == [["alan", 41], ["grace", 85]]
        assert [c["name"] for c in conn.columns] == ["name", "age"]
    finally:
        conn.close()


def test_asyncpg_binary_protocol(server: PgServer) -> None:
    asyncpg = client("asyncpg")

    async def run() -> list[Any]:
        conn = await asyncpg.connect(
            host="127.0.0.1", port=server.port, user="ql", database="queryleaf"
        )
        try:
            rows = await conn.fetch(
                "SELECT name, age, active FROM users WHERE age > $1 ORDER BY age", 40
            )
            statement = await conn.prepare("SELECT name FROM users WHERE name = $1")
            assert await statement.fetchval("ada") == "ada"
            return [tuple(row) for row in rows]
        finally:
            await conn.close()

    assert asyncio.run(run()) == [("alan", 41, False), ("grace", 85, True)]


# --- SQLAlchemy 2 and pandas ---------------------------------------------------------------------


@pytest.mark.parametrize("driver", ["psycopg", "pg8000"])
def test_sqlalchemy_inspect_and_core_queries(server: PgServer, driver: str) -> None:
    sqlalchemy = client("sqlalchemy")
    engine = sqlalchemy.create_engine(
        f"postgresql+{driver}://ql@127.0.0.1:{server.port}/queryleaf", poolclass=sqlalchemy.NullPool
    )
    try:
        inspector = sqlalchemy.inspect(engine)
        assert "users" in inspector.get_table_names()
        columns = {c["name"]: str(c["type"]) for c in inspector.get_columns("users")}
        assert columns["age"] == "BIGINT" and columns["name"] == "TEXT"
        assert columns["address"] == "JSONB"
        users = sqlalchemy.table("users", sqlalchemy.column("name"), sqlalchemy.column("age"))
        query = sqlalchemy.select(users.c.name).where(users.c.age > 40).order_by(users.c.age)
        with engine.connect() as conn:
            assert conn.execute(query).scalars().all() == ["alan", "grace"]
    finally:
        engine.dispose()


def test_sqlalchemy_asyncpg_inspect(server: PgServer) -> None:
    client("greenlet")
    from sqlalchemy import inspect
    from sqlalchemy.ext.asyncio import create_async_engine

    async def run() -> tuple[list[str], list[str]]:
        engine = create_async_engine(f"postgresql+asyncpg://ql@127.0.0.1:{server.port}/queryleaf")
        try:
            async with engine.connect() as conn:
                names = await conn.run_sync(lambda c: inspect(c).get_table_names())
                columns = await conn.run_sync(lambda c: inspect(c).get_columns("users"))
            return names, [c["name"] for c in columns]
        finally:
            await engine.dispose()

    names, columns = asyncio.run(run())
    assert "users" in names
    assert columns[:3] == ["_id", "name", "age"]


def test_pandas_read_sql_through_sqlalchemy(server: PgServer) -> None:
    pandas = client("pandas")
    sqlalchemy = client("sqlalchemy")
    engine = sqlalchemy.create_engine(
        f"postgresql+psycopg://ql@127.0.0.1:{server.port}/queryleaf", poolclass=sqlalchemy.NullPool
    )
    try:
        frame = pandas.read_sql("SELECT name, age FROM users ORDER BY age", engine)
    finally:
        engine.dispose()
    assert list(frame.columns) == ["name", "age"]
    assert frame["age"].tolist() == [36, 41, 85]


# --- security ------------------------------------------------------------------------------------


def test_scram_users_and_read_only_server() -> None:
    with pg_server(auth={"ana": "s3cret"}, read_only=True) as running:
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(**dsn(running, user="ana", password="wrong"), connect_timeout=5)
        with psycopg.connect(
            **dsn(running, user="ana", password="s3cret"), autocommit=True, connect_timeout=5
        ) as conn:
            assert conn.execute("SELECT 1 AS one").fetchone() == (1,)
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                conn.execute("INSERT INTO t (a) VALUES (1)")


def test_non_loopback_bind_without_users_is_refused() -> None:
    from queryleaf.errors import BackendError

    with pytest.raises(BackendError, match="without authentication"):
        PgServer(host="0.0.0.0", port=0)


def test_connection_limit() -> None:
    with (
        pg_server(max_connections=1) as running,
        connect(running),
        pytest.raises(psycopg.OperationalError, match="too many clients"),
    ):
        connect(running)


def test_tls_with_scram(tmp_path: pathlib.Path) -> None:
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("openssl is missing: .ci/run installs it", pytrace=False)
        pytest.skip("openssl is needed to make a test certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "1", "-subj", "/CN=localhost"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    with (
        pg_server(auth={"ana": "pw"}, tls=(str(cert), str(key))) as running,
        psycopg.connect(
            **dsn(running, user="ana", password="pw"), sslmode="require", autocommit=True
        ) as conn,
    ):
        assert conn.pgconn.ssl_in_use
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (0,)


def test_warnings_arrive_as_notices(server: PgServer) -> None:
    notices: list[Any] = []
    with connect(server) as conn:
        conn.add_notice_handler(lambda d: notices.append((d.severity, d.message_primary)))
        assert conn.execute("CREATE TABLE pg_notice (a int)").statusmessage == "CREATE TABLE"
    assert [severity for severity, _ in notices] == ["WARNING"]
    assert "column definitions are not enforced" in notices[0][1]


def test_idle_clients_are_closed() -> None:
    with pg_server(idle_timeout=0.3) as running, connect(running) as conn:
        time.sleep(0.8)
        with pytest.raises(psycopg.OperationalError):
            conn.execute("SELECT 1 AS one")


def test_describe_types_columns_from_a_json_schema_validator(server: PgServer) -> None:
    with connect(server) as conn:
        conn.execute(
            'CREATE TABLE pg_stock (qty INT) WITH (validator = \'{"$jsonSchema": '
            '{"properties": {"qty": {"bsonType": "int"}, "sku": {"bsonType": "string"}}}}\')'
        )
        cursor = conn.cursor()
        cursor.execute("SELECT qty, sku FROM pg_stock WHERE qty > %s", [1], prepare=True)
        assert cursor.fetchall() == []
        assert [(c.name, c.type_code) for c in cursor.description] == [("qty", 23), ("sku", 25)]
        columns = conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'pg_stock' ORDER BY ordinal_position"
        ).fetchall()
        assert columns == [("qty", "integer"), ("sku", "text")]
