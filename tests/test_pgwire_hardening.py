"""The PostgreSQL front end under hostile or unlucky clients: late cancels, user probing,
malformed Bind messages, trickling unauthenticated sockets, clients that vanish mid-stream."""

from __future__ import annotations

import os
import socket
import struct
import time
from typing import Any

from queryleaf.pgwire import codec, scram, types
from queryleaf.pgwire.backend import QueryBackend
from queryleaf.pgwire.session import AuthConfig, Session
from queryleaf.subscriptions.event_columns import ACTIVE_STREAMS
from tests import test_pgwire_protocol
from tests.pgwire_support import pg_server
from tests.test_pgwire_protocol import (
    SYNC,
    bind,
    cstr,
    data_rows,
    execute,
    fields,
    kinds,
    messages,
    msg,
    parse,
    query,
    ready_session,
    startup,
)

shared = test_pgwire_protocol.shared  # the fixture: users ada, alan and grace

# --- cancellation ----------------------------------------------------------------------------


def test_a_cancel_arriving_while_idle_does_not_cancel_the_next_statement(shared: Any) -> None:
    session, _ = ready_session(shared)
    session.receive(query("SELECT 1"))
    session.cancel_requested = True  # what the server does on a CancelRequest with the key
    data = bytes(session.receive(query("SELECT name FROM users ORDER BY age")).data)
    assert "E" not in kinds(data)
    assert data_rows(data) == [[b"ada"], [b"alan"], [b"grace"]]
    session.cancel_requested = True
    data = bytes(
        session.receive(parse("SELECT name FROM users") + bind([]) + execute() + SYNC).data
    )
    assert kinds(data) == "12DDDCZ"


# --- authentication --------------------------------------------------------------------------


def _server_first(auth: AuthConfig, user: str) -> dict[str, str]:
    session = Session(lambda s: None, auth)  # type: ignore[arg-type, return-value]
    session.receive(startup(user=user))
    initial = "n,,n=,r=clientnonce"
    out = session.receive(
        msg("p", cstr("SCRAM-SHA-256") + struct.pack("!i", len(initial)) + initial.encode())
    )
    kind, body = messages(bytes(out.data))[0]
    assert kind == "R" and struct.unpack_from("!i", body)[0] == 11
    return dict(part.split("=", 1) for part in body[4:].decode().split(","))


def test_scram_does_not_tell_an_unknown_user_from_a_known_one() -> None:
    auth = AuthConfig({"ana": scram.Verifier.from_password("pw")})
    known = [_server_first(auth, "ana") for _ in range(2)]
    unknown = [_server_first(auth, "nobody") for _ in range(2)]
    # A real user's salt is the same at every attempt: so must a made-up user's be.
    assert known[0]["s"] == known[1]["s"]
    assert unknown[0]["s"] == unknown[1]["s"]
    assert unknown[0]["i"] == known[0]["i"]
    assert len(unknown[0]["s"]) == len(known[0]["s"])
    assert _server_first(auth, "someone")["s"] != unknown[0]["s"]


# --- Bind and the discard-until-Sync rule ------------------------------------------------------


def _bind(
    statement: str, param_formats: list[int], values: list[bytes], results: list[int]
) -> bytes:
    body = cstr("") + cstr(statement)
    body += struct.pack(f"!h{len(param_formats)}h", len(param_formats), *param_formats)
    body += struct.pack("!h", len(values))
    body += b"".join(struct.pack("!i", len(value)) + value for value in values)
    return msg("B", body + struct.pack(f"!h{len(results)}h", len(results), *results))


def test_bind_refuses_format_counts_other_than_none_one_or_every_parameter(shared: Any) -> None:
    session, _ = ready_session(shared)
    sql = "SELECT name FROM users WHERE age > $1 AND age < $2 AND name <> $3"
    session.receive(parse(sql, name="three") + SYNC)
    values = [b"30", b"50", b"x"]
    for formats in ([0, 0], [0, 0, 0, 0]):
        data = bytes(session.receive(_bind("three", formats, values, []) + execute() + SYNC).data)
        assert kinds(data) == "EZ", formats
        assert fields(messages(data)[0][1])["C"] == "08P01"
    for formats in ([], [0], [0, 0, 0]):
        data = bytes(session.receive(_bind("three", formats, values, []) + execute() + SYNC).data)
        assert sorted(data_rows(data)) == [[b"ada"], [b"alan"]], formats
        assert "E" not in kinds(data), formats


def test_bind_refuses_unknown_format_codes(shared: Any) -> None:
    session, _ = ready_session(shared)
    session.receive(parse("SELECT name FROM users WHERE age > $1", name="one") + SYNC)
    for param_formats, result_formats in (([2], []), ([0], [2])):
        out = session.receive(
            _bind("one", param_formats, [b"80"], result_formats) + execute() + SYNC
        )
        data = bytes(out.data)
        assert kinds(data) == "EZ", (param_formats, result_formats)
        assert fields(messages(data)[0][1])["C"] == "22023"


def test_a_query_message_after_an_extended_error_is_discarded_until_sync(shared: Any) -> None:
    session, _ = ready_session(shared)
    data = bytes(
        session.receive(
            parse("SELECT nosuch(1) FROM users") + query("INSERT INTO t (a) VALUES (1)") + SYNC
        ).data
    )
    assert kinds(data) == "EZ"
    assert shared.base.db.t.count_documents({}) == 0


# --- sockets -----------------------------------------------------------------------------------


def _startup_bytes() -> bytes:
    return startup(user="ql")


def test_an_unauthenticated_client_cannot_hold_a_connection_by_trickling_bytes() -> None:
    with pg_server(auth={"ana": "pw"}, auth_timeout=0.6) as running:
        packet = _startup_bytes()
        with socket.create_connection(("127.0.0.1", running.port), timeout=5) as sock:
            sock.settimeout(0.25)
            closed = False
            started = time.monotonic()
            for byte in packet[:20]:  # one byte every 0.25 s: each read arrives in time
                try:
                    sock.sendall(bytes([byte]))
                    if sock.recv(65536) == b"":
                        closed = True
                        break
                except TimeoutError:
                    continue
                except ConnectionError:
                    closed = True
                    break
            assert closed, "the server kept an unauthenticated client past its deadline"
            assert time.monotonic() - started < 3


def _trusted(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(_startup_bytes())
    got = b""
    while not got.endswith(b"Z\x00\x00\x00\x05I"):
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection during startup"
        got += chunk
    return sock


def _live_streams(running: Any) -> int:
    return int(running.shared.base.db[ACTIVE_STREAMS].count_documents({"kind": "live_query"}))


def test_a_live_query_stops_when_its_client_disconnects() -> None:
    with pg_server() as running:
        sock = _trusted(running.port)
        sock.sendall(query("SELECT event_type FROM CHANGE_STREAM_EVENTS('pg_gone') EMIT CHANGES"))
        deadline = time.monotonic() + 5
        while _live_streams(running) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _live_streams(running) == 1
        sock.close()
        deadline = time.monotonic() + 5
        while (_live_streams(running) or running.sessions) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _live_streams(running) == 0, "the live query kept running for a closed client"
        assert not running.sessions


def test_live_queries_do_not_starve_other_clients_of_worker_threads() -> None:
    # asyncio's default pool has min(32, cpus + 4) threads; one more live query than that
    # must not leave other clients waiting.
    count = min(32, (os.cpu_count() or 1) + 4) + 1
    with pg_server(max_connections=count + 2) as running:
        socks = [_trusted(running.port) for _ in range(count)]
        try:
            for sock in socks:
                sock.sendall(
                    query("SELECT event_type FROM CHANGE_STREAM_EVENTS('pg_busy') EMIT CHANGES")
                )
            deadline = time.monotonic() + 10
            while _live_streams(running) < count and time.monotonic() < deadline:
                time.sleep(0.05)
            with _trusted(running.port) as other:
                other.sendall(query("SELECT 1 AS one"))
                got, _closed = b"", False
                deadline = time.monotonic() + 5
                other.settimeout(0.2)
                while not got.endswith(b"Z\x00\x00\x00\x05I") and time.monotonic() < deadline:
                    try:
                        got += other.recv(65536)
                    except TimeoutError:
                        continue
                assert data_rows(got) == [[b"1"]]
        finally:
            for sock in socks:
                sock.close()


# --- read-only ---------------------------------------------------------------------------------


def test_read_only_runs_show_statements_and_refuses_writes_hidden_behind_reads(
    shared: Any,
) -> None:
    from queryleaf.shell.safety import run_script

    shared.read_only = True
    session, _ = ready_session(shared)
    for sql in ("SHOW TABLES", "SHOW INDEXES FROM users", "DESCRIBE users"):
        data = bytes(session.receive(query(sql)).data)
        assert "E" not in kinds(data), sql
        assert [b"users"] in [row[:1] for row in data_rows(data)] or sql != "SHOW TABLES"
    for sql in (
        "SELECT 1 AS one; DELETE FROM users",
        "/* a comment */ DELETE FROM users",
        "CREATE TABLE made (a int)",
        "DROP TABLE users",
    ):
        data = bytes(session.receive(query(sql)).data)
        assert fields(next(b for k, b in messages(data) if k == "E"))["C"] == "25006", sql
    assert shared.base.db.users.count_documents({}) == 3
    assert "made" not in shared.base.db.list_collection_names()
    shell_rows = [r.rows for r in run_script(shared.base, "SHOW TABLES", read_only=True)]
    assert {"name": "users"}.items() <= shell_rows[0][0].items()


# --- TLS negotiation -----------------------------------------------------------------------------


def test_bytes_sent_after_an_ssl_request_before_the_handshake_are_refused(shared: Any) -> None:
    # Anything sent in the clear after SSLRequest would be read as if it had come over TLS: a
    # man in the middle could inject a startup packet or a query (PostgreSQL's CVE-2021-23214).
    session = Session(lambda s: QueryBackend(shared, s), AuthConfig(), tls_available=True)
    ssl_request = struct.pack("!ii", 8, codec.SSL_REQUEST)
    out = session.receive(ssl_request + startup() + query("DELETE FROM users"))
    assert out.close and not out.start_tls
    assert fields(messages(bytes(out.data))[-1][1])["C"] == "08P01"
    assert shared.base.db.users.count_documents({}) == 3
    session = Session(lambda s: QueryBackend(shared, s), AuthConfig(), tls_available=True)
    out = session.receive(ssl_request)
    assert bytes(out.data) == b"S" and out.start_tls and not out.close
    out = session.receive(ssl_request)  # again, now over TLS: not a second handshake
    assert out.close and not out.start_tls
    assert fields(messages(bytes(out.data))[-1][1])["C"] == "08P01"


def test_rollback_after_a_subscription_statement_is_refused(shared: Any) -> None:
    session, _ = ready_session(shared)
    session.receive(
        query("CREATE EVENT_SUBSCRIPTION paused AS (watch_collections = JSON_ARRAY('o'))")
    )
    data = bytes(session.receive(query("BEGIN; PAUSE EVENT_SUBSCRIPTION paused; ROLLBACK")).data)
    error = fields(next(body for kind, body in messages(data) if kind == "E"))
    assert error["C"] == "0A000" and "cannot undo" in error["M"]


def test_a_cancel_request_needs_the_sessions_secret_key() -> None:
    with pg_server() as running:
        sock = socket.create_connection(("127.0.0.1", running.port), timeout=5)
        sock.sendall(_startup_bytes())
        got = b""
        while not got.endswith(b"Z\x00\x00\x00\x05I"):
            got += sock.recv(65536)
        pid, secret = struct.unpack("!ii", next(b for k, b in messages(got) if k == "K"))
        sock.sendall(query("SELECT event_type FROM CHANGE_STREAM_EVENTS('pg_key') EMIT CHANGES"))
        deadline = time.monotonic() + 5
        while _live_streams(running) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)

        def cancel(key: int) -> None:
            with socket.create_connection(("127.0.0.1", running.port), timeout=5) as other:
                other.sendall(struct.pack("!iiii", 16, codec.CANCEL_REQUEST, pid, key))
                other.recv(1)  # the server closes a cancel connection

        cancel(secret ^ 1)
        time.sleep(0.6)  # three polls of the live query
        assert _live_streams(running) == 1, "a wrong key cancelled the statement"
        cancel(secret)
        answer = b""
        while not answer.endswith(b"Z\x00\x00\x00\x05I"):
            chunk = sock.recv(65536)
            assert chunk, "the server closed the connection instead of cancelling"
            answer += chunk
        assert fields(next(b for k, b in messages(answer) if k == "E"))["C"] == "57014"
        sock.close()


def test_malformed_parameter_values_get_data_errors_not_internal_ones(shared: Any) -> None:
    session, _ = ready_session(shared)
    session.receive(parse("SELECT name FROM users WHERE age = $1", oids=(types.INT8,)) + SYNC)
    for value, fmt, state in (
        (b"\x00\x01", 1, "22P03"),  # an int8 is 8 bytes
        (b"\xff\xfe", 0, "22021"),  # not UTF-8
        (b"forty", 0, "22P02"),
    ):
        data = bytes(session.receive(bind([value], fmt=fmt) + execute() + SYNC).data)
        assert kinds(data) == "EZ", value
        error = fields(messages(data)[0][1])
        assert error["C"] == state and "internal error" not in error["M"], value
    session.receive(parse("SELECT name FROM users WHERE active = $1", oids=(types.BOOL,)) + SYNC)
    data = bytes(session.receive(bind([b"\x01\x01"], fmt=1) + execute() + SYNC).data)
    assert fields(messages(data)[0][1])["C"] == "22P03"


def test_closing_a_statement_closes_its_portals(shared: Any) -> None:
    session, _ = ready_session(shared)
    session.receive(parse("SELECT name FROM users", name="s") + bind([], portal="p", name="s"))
    data = bytes(session.receive(msg("C", b"Ss\0") + execute("p") + SYNC).data)
    assert kinds(data) == "3EZ"
    assert fields(messages(data)[1][1])["C"] == "34000"
