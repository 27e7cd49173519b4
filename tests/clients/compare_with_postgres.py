"""Message traces of queryleaf's PostgreSQL front end beside a real PostgreSQL 15 (a
development check, not part of `make test`).

    .venv/bin/python tests/clients/compare_with_postgres.py PORT

PORT is a PostgreSQL 15 on 127.0.0.1 with trust for user `ql` and a database `queryleaf`
(its table `users` is recreated). The same raw message sequences go to both servers; the
message kinds, command tags, SQLSTATEs and error positions are compared, then value encodings
(text and binary) are compared byte for byte with the server's own.
"""

import pathlib
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
import queryleaf
from queryleaf.pgwire.server import PgServer
from tests.test_pgwire_protocol import (
    SYNC,
    bind,
    describe,
    execute,
    fields,
    messages,
    msg,
    parse,
    query,
    startup,
)

PG_PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 55432


def session(port, payloads):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(3)
    s.sendall(startup())
    buf = b""
    while not buf.endswith(b"Z\x00\x00\x00\x05I"):
        buf += s.recv(65536)
    out = []
    for p in payloads:
        s.sendall(p)
        buf = b""
        deadline = time.time() + 3
        while time.time() < deadline:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            buf += chunk
            ms = messages(buf) if _complete(buf) else None
            if ms and ms[-1][0] == "Z" and _count_z(p) <= sum(1 for k, _ in ms if k == "Z"):
                break
        desc = []
        for k, b in messages(buf):
            if k == "E":
                desc.append("E:" + fields(b)["C"] + "@" + fields(b).get("P", "-"))
            elif k == "C":
                desc.append("C:" + b[:-1].decode())
            elif k == "Z":
                desc.append("Z:" + b.decode())
            elif k == "N":
                desc.append("N")
            else:
                desc.append(k)
        out.append(" ".join(desc))
    s.close()
    return out


def _complete(buf):
    pos = 0
    while pos + 5 <= len(buf):
        (n,) = struct.unpack_from("!i", buf, pos + 1)
        pos += 1 + n
    return pos == len(buf)


def _count_z(p):
    return sum(1 for k, _ in messages(p) if k in "QS")


cases = [
    ("multi", [query("SELECT name FROM users ORDER BY age; SELECT count(*) FROM users")]),
    ("empty", [query(""), query(";")]),
    ("error+caret", [query("SELECT 1; SELECT nosuch(age) FROM users; SELECT 2")]),
    (
        "limit/suspend",
        [
            parse("SELECT name FROM users WHERE age > $1 ORDER BY age", oids=(20,))
            + bind([b"30"])
            + describe("P")
            + execute(limit=2)
            + execute(limit=2)
            + SYNC
        ],
    ),
    (
        "describe stmt",
        [parse("SELECT name, age FROM users WHERE age > $1", oids=(20,)) + describe("S") + SYNC],
    ),
    (
        "describe insert",
        [parse("INSERT INTO users (name) VALUES ($1)", oids=(25,)) + describe("S") + SYNC],
    ),
    (
        "error discards",
        [
            parse("SELECT nosuch(1) FROM users")
            + bind([])
            + execute()
            + SYNC
            + parse("SELECT 1")
            + bind([])
            + execute()
            + SYNC
        ],
    ),
    ("close", [parse("SELECT 1", name="s1") + msg("C", b"Ss1\0") + bind([], name="s1") + SYNC]),
    ("tx", [query("BEGIN"), query("SELECT nosuch(1)"), query("SELECT 1"), query("ROLLBACK")]),
    (
        "writes",
        [
            query(
                "INSERT INTO users (name, age) VALUES ('x', 1), ('y', 2); UPDATE users SET age = 3 WHERE age < 3; DELETE FROM users WHERE age = 3"
            )
        ],
    ),
    ("flush", [parse("SELECT 1") + msg("H"), bind([]) + execute() + SYNC]),
]
# real PostgreSQL
subprocess.run(
    [
        "psql",
        "-h",
        "127.0.0.1",
        "-p",
        str(PG_PORT),
        "-U",
        "ql",
        "-d",
        "queryleaf",
        "-q",
        "-c",
        "DROP TABLE IF EXISTS users; CREATE TABLE users (name text, age bigint); INSERT INTO users VALUES ('ada',36),('alan',41),('grace',85)",
    ],
    check=True,
)
base = queryleaf.connect()
base.run_sql("INSERT INTO users (name, age) VALUES ('ada', 36), ('alan', 41), ('grace', 85)")
server = PgServer(connect=lambda: base, port=0).start()
for name, payloads in cases:
    pg = session(PG_PORT, payloads)
    ql = session(server.port, payloads)
    same = "same" if pg == ql else "DIFF"
    print(f"{same:4} {name}")
    if pg != ql:
        print("   pg:", pg)
        print("   ql:", ql)
server.stop()


def compare_encodings() -> None:
    import datetime as dt
    import decimal
    import uuid

    import psycopg

    from queryleaf.pgwire import types

    c = psycopg.connect(
        host="127.0.0.1", port=55432, user="ql", dbname="queryleaf", autocommit=True
    )
    cases = [
        ("36::int8", 36, types.INT8),
        ("-5::int8", -5, types.INT8),
        ("1.5::float8", 1.5, types.FLOAT8),
        ("true", True, types.BOOL),
        ("'héllo'::text", "héllo", types.TEXT),
        ("12.34::numeric", decimal.Decimal("12.34"), types.NUMERIC),
        ("0::numeric", decimal.Decimal("0"), types.NUMERIC),
        ("-98765.4321::numeric", decimal.Decimal("-98765.4321"), types.NUMERIC),
        ("100000000::numeric", decimal.Decimal("100000000"), types.NUMERIC),
        ("0.0001::numeric", decimal.Decimal("0.0001"), types.NUMERIC),
        (
            "'2026-01-02 03:04:05.123456+00'::timestamptz",
            dt.datetime(2026, 1, 2, 3, 4, 5, 123456),
            types.TIMESTAMPTZ,
        ),
        (
            "'1999-12-31 23:59:59+00'::timestamptz",
            dt.datetime(1999, 12, 31, 23, 59, 59),
            types.TIMESTAMPTZ,
        ),
        ("'2026-01-02'::date", dt.date(2026, 1, 2), types.DATE),
        ("'{\"a\": [1, 2]}'::jsonb", {"a": [1, 2]}, types.JSONB),
        ("'\\x0102ff'::bytea", b"\x01\x02\xff", types.BYTEA),
        (
            "'12345678-1234-5678-1234-567812345678'::uuid",
            uuid.UUID("12345678-1234-5678-1234-567812345678"),
            types.UUID,
        ),
    ]
    ok = 0
    for sql, value, oid in cases:
        for binary in (True, False):
            cur = c.cursor(binary=binary)
            cur.execute("SELECT " + sql)
            raw = cur.pgresult.get_value(0, 0)
            ours = types.encode(value, oid, binary)
            if bytes(raw) != ours:
                print("DIFF", sql, "binary" if binary else "text", bytes(raw), ours)
            else:
                ok += 1
    print(ok, "of", 2 * len(cases), "identical")


compare_encodings()
