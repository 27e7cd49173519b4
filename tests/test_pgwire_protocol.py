"""The PostgreSQL protocol state machine on bytes: no sockets, no threads."""

from __future__ import annotations

import base64
import decimal
import struct
from typing import Any

import pytest

import queryleaf
from queryleaf.errors import SemanticError
from queryleaf.pgwire import codec, scram, types
from queryleaf.pgwire.backend import QueryBackend, Shared
from queryleaf.pgwire.catalog import Catalog
from queryleaf.pgwire.session import AuthConfig, Session
from queryleaf.pgwire.sqlstate import error_fields
from queryleaf.pgwire.sqltext import dollar_params, param_name

# --- a tiny frontend -------------------------------------------------------------------------


def startup(user: str = "ql", minor: int = 0, **extra: str) -> bytes:
    params = {"user": user, "database": "queryleaf", **extra}
    body = struct.pack("!i", (3 << 16) | minor)
    body += b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in params.items()) + b"\0"
    return struct.pack("!i", len(body) + 4) + body


def msg(kind: str, body: bytes = b"") -> bytes:
    return kind.encode() + struct.pack("!i", len(body) + 4) + body


def cstr(text: str) -> bytes:
    return text.encode() + b"\0"


def query(sql: str) -> bytes:
    return msg("Q", cstr(sql))


def parse(sql: str, name: str = "", oids: tuple[int, ...] = ()) -> bytes:
    return msg("P", cstr(name) + cstr(sql) + struct.pack(f"!h{len(oids)}i", len(oids), *oids))


def bind(params: list[bytes | None], portal: str = "", name: str = "", fmt: int = 0,
         result_formats: tuple[int, ...] = ()) -> bytes:  # fmt: skip
    body = cstr(portal) + cstr(name) + struct.pack("!hh", 1, fmt) + struct.pack("!h", len(params))
    for value in params:
        body += struct.pack("!i", -1) if value is None else struct.pack("!i", len(value)) + value
    body += struct.pack(f"!h{len(result_formats)}h", len(result_formats), *result_formats)
    return msg("B", body)


def describe(kind: str, name: str = "") -> bytes:
    return msg("D", kind.encode() + cstr(name))


def execute(portal: str = "", limit: int = 0) -> bytes:
    return msg("E", cstr(portal) + struct.pack("!i", limit))


SYNC = msg("S")


def messages(data: bytes) -> list[tuple[str, bytes]]:
    out = []
    pos = 0
    while pos < len(data):
        kind = chr(data[pos])
        (length,) = struct.unpack_from("!i", data, pos + 1)
        out.append((kind, data[pos + 5 : pos + 1 + length]))
        pos += 1 + length
    return out


def kinds(data: bytes) -> str:
    return "".join(kind for kind, _ in messages(data))


def fields(body: bytes) -> dict[str, str]:
    found = {}
    for part in body.rstrip(b"\0").split(b"\0"):
        if part:
            found[chr(part[0])] = part[1:].decode()
    return found


def data_rows(data: bytes) -> list[list[bytes | None]]:
    rows = []
    for kind, body in messages(data):
        if kind != "D":
            continue
        (count,) = struct.unpack_from("!h", body, 0)
        pos, row = 2, []
        for _ in range(count):
            (size,) = struct.unpack_from("!i", body, pos)
            pos += 4
            row.append(None if size < 0 else body[pos : pos + size])
            pos += max(size, 0)
        rows.append(row)
    return rows


def tags(data: bytes) -> list[str]:
    return [body[:-1].decode() for kind, body in messages(data) if kind == "C"]


@pytest.fixture
def shared() -> Any:
    base = queryleaf.connect()
    base.run_sql("INSERT INTO users (name, age) VALUES ('ada', 36), ('alan', 41), ('grace', 85)")
    state = Shared(base)
    state.catalog = Catalog(base.db)
    yield state
    state.catalog.close()
    base.close()


def ready_session(shared: Any, auth: AuthConfig | None = None) -> tuple[Session, bytes]:
    session = Session(lambda s: QueryBackend(shared, s), auth or AuthConfig())
    out = session.receive(startup())
    return session, bytes(out.data)


# --- startup --------------------------------------------------------------------------------


def test_ssl_and_gssenc_requests_are_refused_with_n_then_startup_proceeds(shared: Any) -> None:
    session = Session(lambda s: QueryBackend(shared, s), AuthConfig())
    ssl_request = struct.pack("!ii", 8, codec.SSL_REQUEST)
    gss_request = struct.pack("!ii", 8, codec.GSSENC_REQUEST)
    assert bytes(session.receive(ssl_request).data) == b"N"
    assert bytes(session.receive(gss_request).data) == b"N"
    out = session.receive(startup())
    assert kinds(bytes(out.data)) == "R" + "S" * len(session.server_parameters) + "KZ"


def test_startup_reports_parameters_and_backend_key(shared: Any) -> None:
    session, data = ready_session(shared)
    status = dict(
        tuple(part.decode() for part in body.split(b"\0")[:2])
        for kind, body in messages(data)
        if kind == "S"
    )
    assert status["server_version"].startswith("15")
    assert status["standard_conforming_strings"] == "on"
    assert status["DateStyle"] == "ISO, MDY"
    assert status["integer_datetimes"] == "on"
    assert status["client_encoding"] == "UTF8"
    assert "TimeZone" in status
    key = next(body for kind, body in messages(data) if kind == "K")
    assert struct.unpack("!ii", key) == (session.pid, session.secret)
    assert messages(data)[-1] == ("Z", b"I")


def test_newer_minor_version_and_pq_options_get_negotiate_protocol_version(shared: Any) -> None:
    session = Session(lambda s: QueryBackend(shared, s), AuthConfig())
    data = bytes(session.receive(startup(minor=2, **{"_pq_.test": "1"})).data)
    kind, body = messages(data)[0]
    assert kind == "v"
    minor, count = struct.unpack_from("!ii", body)
    assert (minor, count) == (0, 1)
    assert body[8:] == b"_pq_.test\0"
    assert messages(data)[-1][0] == "Z"


def test_oversized_startup_packet_is_refused_before_auth(shared: Any) -> None:
    session = Session(lambda s: QueryBackend(shared, s), AuthConfig())
    out = session.receive(struct.pack("!ii", 1_000_000, 3 << 16))
    assert out.close
    assert fields(messages(bytes(out.data))[0][1])["C"] == "08P01"


def test_messages_before_auth_are_size_capped() -> None:
    auth = AuthConfig({"ql": scram.Verifier.from_password("pw", iterations=16)})
    session = Session(lambda s: None, auth)  # type: ignore[arg-type, return-value]
    session.receive(startup())
    out = session.receive(b"p" + struct.pack("!i", 100_000))
    assert out.close
    assert fields(messages(bytes(out.data))[0][1])["C"] == "08P01"


# --- SCRAM-SHA-256 ---------------------------------------------------------------------------


def _scram_login(shared: Any, password: str) -> tuple[Session, bytes]:
    auth = AuthConfig({"ql": scram.Verifier.from_password("secret", iterations=64)})
    session = Session(lambda s: QueryBackend(shared, s), auth)
    first = bytes(session.receive(startup()).data)
    kind, body = messages(first)[0]
    assert kind == "R" and struct.unpack_from("!i", body)[0] == 10
    assert body[4:] == b"SCRAM-SHA-256\0\0"
    client_first_bare = "n=,r=clientnonce123"
    initial = "n,," + client_first_bare
    out = session.receive(
        msg("p", cstr("SCRAM-SHA-256") + struct.pack("!i", len(initial)) + initial.encode())
    )
    kind, body = messages(bytes(out.data))[0]
    assert struct.unpack_from("!i", body)[0] == 11
    server_first = body[4:].decode()
    attrs = dict(part.split("=", 1) for part in server_first.split(","))
    assert attrs["r"].startswith("clientnonce123")
    without_proof = f"c=biws,r={attrs['r']}"
    auth_message = f"{client_first_bare},{server_first},{without_proof}".encode()
    proof, server_signature = scram.client_proof(
        password, base64.b64decode(attrs["s"]), int(attrs["i"]), auth_message
    )
    final = f"{without_proof},p={base64.b64encode(proof).decode()}"
    out = session.receive(msg("p", final.encode()))
    return session, bytes(out.data) + b"|" + base64.b64encode(server_signature)


def test_scram_sha_256_accepts_the_right_password(shared: Any) -> None:
    session, data = _scram_login(shared, "secret")
    data, expected_signature = data.rsplit(b"|", 1)
    _first_kind, first_body = messages(data)[0]
    assert struct.unpack_from("!i", first_body)[0] == 12
    assert first_body[4:] == b"v=" + expected_signature
    assert session.authenticated
    assert messages(data)[1] == ("R", struct.pack("!i", 0))


def test_scram_sha_256_refuses_a_wrong_password(shared: Any) -> None:
    session, data = _scram_login(shared, "wrong")
    data = data.rsplit(b"|", 1)[0]
    kind, body = messages(data)[0]
    assert kind == "E"
    assert fields(body)["C"] == "28P01"
    assert not session.authenticated


# --- simple query ----------------------------------------------------------------------------


def test_simple_query_runs_several_statements_with_honest_tags(shared: Any) -> None:
    session, _ = ready_session(shared)
    sql = (
        "INSERT INTO t (a) VALUES (1), (2), (3); UPDATE t SET a = 0 WHERE a > 1; "
        "SELECT a FROM t ORDER BY a; DELETE FROM t WHERE a = 0"
    )
    data = bytes(session.receive(query(sql)).data)
    assert tags(data) == ["INSERT 0 3", "UPDATE 2", "SELECT 3", "DELETE 2"]
    assert data_rows(data) == [[b"0"], [b"0"], [b"1"]]
    assert messages(data)[-1] == ("Z", b"I")


def test_empty_query_gets_empty_query_response(shared: Any) -> None:
    session, _ = ready_session(shared)
    assert kinds(bytes(session.receive(query("  ;")).data)) == "IZ"


def test_error_has_sqlstate_and_caret_position_in_the_query_string(shared: Any) -> None:
    session, _ = ready_session(shared)
    sql = "SELECT 1;\nSELECT nosuch(age) FROM users"
    data = bytes(session.receive(query(sql)).data)
    error = fields(next(body for kind, body in messages(data) if kind == "E"))
    assert error["C"] == "42883"
    assert "QL302" in error["M"]
    assert sql[int(error["P"]) - 1 :].startswith("nosuch")
    assert tags(data) == ["SELECT 1"]  # the first statement ran; the script stopped at the error


def test_rollback_after_a_write_is_refused_not_silently_ignored(shared: Any) -> None:
    session, _ = ready_session(shared)
    data = bytes(session.receive(query("BEGIN")).data)
    assert "N" in kinds(data) and messages(data)[-1] == ("Z", b"T")
    session.receive(query("INSERT INTO t (a) VALUES (1)"))
    data = bytes(session.receive(query("ROLLBACK")).data)
    error = fields(next(body for kind, body in messages(data) if kind == "E"))
    assert error["C"] == "0A000" and "cannot undo" in error["M"]
    assert shared.base.db.t.count_documents({}) == 1
    data = bytes(session.receive(query("BEGIN; SELECT 1; ROLLBACK")).data)
    assert tags(data) == ["BEGIN", "SELECT 1", "ROLLBACK"]


def test_set_and_show_session_settings(shared: Any) -> None:
    session, _ = ready_session(shared)
    data = bytes(session.receive(query("SET application_name = 'x'; SHOW application_name")).data)
    assert tags(data) == ["SET", "SELECT 1"]
    assert data_rows(data) == [[b"x"]]
    data = bytes(session.receive(query("SHOW transaction isolation level")).data)
    assert data_rows(data) == [[b"read committed"]]


# --- extended protocol -----------------------------------------------------------------------


def test_extended_query_with_row_limit_suspends_and_resumes(shared: Any) -> None:
    session, _ = ready_session(shared)
    sql = "SELECT name, age FROM users WHERE age > $1 ORDER BY age"
    data = bytes(
        session.receive(
            parse(sql) + describe("S") + bind([b"30"]) + describe("P") + execute(limit=2)
            + execute(limit=2) + SYNC
        ).data
    )  # fmt: skip
    assert kinds(data) == "1tT2TDDsDCZ"
    parameter = next(body for kind, body in messages(data) if kind == "t")
    assert struct.unpack("!hi", parameter) == (1, types.INT8)  # compared with a sampled int
    assert data_rows(data) == [[b"ada", b"36"], [b"alan", b"41"], [b"grace", b"85"]]
    assert tags(data) == ["SELECT 1"]  # the rows of the last Execute, as PostgreSQL counts


def test_describe_never_runs_the_statement(shared: Any) -> None:
    session, _ = ready_session(shared)
    data = bytes(
        session.receive(parse("INSERT INTO users (name) VALUES ($1)") + describe("S") + SYNC).data
    )
    assert kinds(data) == "1tnZ"
    assert shared.base.db.users.count_documents({}) == 3


def test_error_discards_messages_until_sync(shared: Any) -> None:
    session, _ = ready_session(shared)
    data = bytes(
        session.receive(
            parse("SELECT nosuch(1) FROM users") + bind([]) + execute() + SYNC
            + parse("SELECT 1 AS one") + bind([]) + execute() + SYNC
        ).data
    )  # fmt: skip
    assert kinds(data) == "EZ12DCZ"


def test_binary_results_and_binary_parameters(shared: Any) -> None:
    session, _ = ready_session(shared)
    sql = "SELECT name, age FROM users WHERE age = $1"
    out = session.receive(
        parse(sql, oids=(types.INT8,)) + bind([struct.pack("!q", 41)], fmt=1, result_formats=(1,))
        + describe("P") + execute() + SYNC
    )  # fmt: skip
    rows = data_rows(bytes(out.data))
    assert rows == [[b"alan", struct.pack("!q", 41)]]


def test_named_statement_bound_many_times_and_closed(shared: Any) -> None:
    session, _ = ready_session(shared)
    session.receive(parse("SELECT name FROM users WHERE age > $1", name="s1") + SYNC)
    for value, expected in ((b"80", 1), (b"30", 3)):
        data = bytes(session.receive(bind([value], name="s1") + execute() + SYNC).data)
        assert tags(data) == [f"SELECT {expected}"]
    data = bytes(session.receive(msg("C", b"Ss1\0") + bind([b"1"], name="s1") + SYNC).data)
    assert kinds(data) == "3EZ"
    assert fields(messages(data)[1][1])["C"] == "26000"


def test_cancel_request_is_reported_to_the_server() -> None:
    session = Session(lambda s: None, AuthConfig())  # type: ignore[arg-type, return-value]
    out = session.receive(struct.pack("!iiii", 16, codec.CANCEL_REQUEST, 7, 99))
    assert out.cancel == (7, 99) and out.close


# --- types and errors ------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["0", "1.5", "-12345.6789", "100000000", "0.0001", "99999999.01"])
def test_numeric_binary_round_trip(text: str) -> None:
    value = decimal.Decimal(text)
    assert types.decode_numeric(types.encode_numeric(value)) == value


def test_text_encoding_of_common_values() -> None:
    import datetime as dt

    assert types.encode(True, types.BOOL, False) == b"t"
    assert types.encode({"a": [1]}, types.JSONB, False) == b'{"a": [1]}'
    stamp = dt.datetime(2026, 1, 2, 3, 4, 5)
    assert types.encode(stamp, types.TIMESTAMPTZ, False) == b"2026-01-02 03:04:05+00"
    with pytest.raises(types.ValueError22):
        types.encode("abc", types.INT8, False, "age")


def test_sqlstate_mapping_keeps_code_and_hint() -> None:
    error = SemanticError("unknown function X", hint="did you mean Y", code="QL302")
    found = error_fields(error)
    assert found["C"] == "42883" and found["H"] == "did you mean Y"
    assert found["M"].startswith("[QL302]")


def test_dollar_parameters_keep_offsets_and_skip_strings() -> None:
    text, highest = dollar_params("SELECT '$1', $1, $12 -- $3")
    assert highest == 12
    assert len(text) == len("SELECT '$1', $1, $12 -- $3")
    assert text == f"SELECT '$1', :{param_name(1)}, :{param_name(12)} -- $3"


def test_an_error_in_a_transaction_block_fails_it_until_rollback(shared: Any) -> None:
    session, _ = ready_session(shared)
    data = bytes(session.receive(query("BEGIN; SELECT nosuch(1) FROM users")).data)
    assert messages(data)[-1] == ("Z", b"E")
    data = bytes(session.receive(query("SELECT 1")).data)
    assert fields(next(body for kind, body in messages(data) if kind == "E"))["C"] == "25P02"
    data = bytes(session.receive(query("ROLLBACK")).data)
    assert tags(data) == ["ROLLBACK"] and messages(data)[-1] == ("Z", b"I")


def test_discard_dead_letter_events_is_not_taken_for_discard_all(shared: Any) -> None:
    session, _ = ready_session(shared)
    data = bytes(session.receive(query("DISCARD DEAD_LETTER_EVENTS FOR nosuch")).data)
    assert "DISCARD ALL" not in tags(data)
    assert "E" in kinds(data)  # queryleaf's own statement ran: the subscription does not exist


def test_parse_refuses_several_statements(shared: Any) -> None:
    session, _ = ready_session(shared)
    data = bytes(session.receive(parse("SELECT 1; SELECT 2") + SYNC).data)
    assert kinds(data) == "EZ"
    assert fields(messages(data)[0][1])["C"] == "42601"


def test_queryleaf_statements_that_return_rows_are_described(shared: Any) -> None:
    session, _ = ready_session(shared)
    for sql, first_column in (
        ("EXPLAIN SELECT name FROM users", b"command"),
        ("SHOW EVENT_SUBSCRIPTIONS", b"name"),
        ("SHOW TABLES", b"name"),
    ):
        data = bytes(session.receive(parse(sql) + describe("S") + bind([]) + execute() + SYNC).data)
        assert kinds(data).startswith("1tT2"), sql
        description = next(body for kind, body in messages(data) if kind == "T")
        assert description[2:].startswith(first_column + b"\0"), sql
        assert tags(data)[0].startswith("SELECT "), sql
    data = bytes(session.receive(query("SHOW TABLES")).data)
    assert [b"users"] in [row[:1] for row in data_rows(data)]


def test_rows_are_encoded_in_the_types_the_statement_was_described_with(shared: Any) -> None:
    session, _ = ready_session(shared)
    shared.base.db.mixed.insert_many([{"v": "text"}] + [{"v": n} for n in range(3)])
    sql = "SELECT v FROM mixed WHERE v = 2"
    data = bytes(session.receive(parse(sql) + describe("S") + SYNC).data)
    description = next(body for kind, body in messages(data) if kind == "T")
    assert struct.unpack_from("!i", description, 2 + len(b"v\0") + 6)[0] == types.TEXT
    out = session.receive(bind([], result_formats=(1,)) + execute() + SYNC)
    assert data_rows(bytes(out.data)) == [[b"2"]]  # text's binary form, not an int8


def test_set_of_a_reported_setting_sends_parameter_status(shared: Any) -> None:
    session, _ = ready_session(shared)
    data = bytes(session.receive(query("SET application_name = 'etl'")).data)
    assert messages(data)[0] == ("S", b"application_name\0etl\0")
    assert tags(data) == ["SET"]
    data = bytes(session.receive(query("SET client_encoding = 'LATIN1'")).data)
    assert fields(next(body for kind, body in messages(data) if kind == "E"))["C"] == "0A000"


def test_an_empty_string_column_is_a_value_not_an_exclusion(shared: Any) -> None:
    # psql's \d selects '' columns; in $project a bare "" must not read as "exclude".
    rows = shared.base.run_sql("SELECT '' AS e, name FROM users WHERE age = 36").rows
    assert rows == [{"e": "", "name": "ada"}]


def test_malformed_messages_get_errors_never_exceptions(shared: Any) -> None:
    import random

    rnd = random.Random(7)
    auth = AuthConfig({"ql": scram.Verifier.from_password("x", iterations=16)})
    for index in range(300):
        session = Session(
            lambda s: QueryBackend(shared, s), auth if index % 3 == 0 else AuthConfig()
        )
        size = rnd.randrange(8, 40)
        code = rnd.choice([codec.CANCEL_REQUEST, codec.SSL_REQUEST, 3 << 16, (3 << 16) | 2, 1234])
        noise = bytes(rnd.randrange(256) for _ in range(size - 8))
        out = session.receive(struct.pack("!ii", size, code) + noise)
        if not out.close:
            kind = rnd.choice("pQPBDECH")
            body = bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 30)))
            out = session.receive(msg(kind, body) + SYNC)
        if out.close and out.cancel is None:  # refused: the last word is a FATAL ErrorResponse
            kind, body = messages(bytes(out.data).lstrip(b"N"))[-1]
            assert kind == "E" and fields(body)["S"] == "FATAL"
