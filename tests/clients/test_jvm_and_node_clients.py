"""pgjdbc (what DBeaver and Metabase use) and node-postgres against `PgServer`. Run by
`make test-clients` (QUERYLEAF_CLIENT_TESTS=1), which needs Debian default-jdk-headless and
libpostgresql-jdbc-java, and installs node's `pg` into .clients/; skipped otherwise."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from queryleaf.pgwire.server import PgServer
from tests.pgwire_support import USERS_SQL, pg_server

HERE = pathlib.Path(__file__).parent
ROOT = HERE.parent.parent
JDBC_JAR = pathlib.Path("/usr/share/java/postgresql.jar")
NODE_MODULES = ROOT / ".clients" / "node_modules"

if os.environ.get("QUERYLEAF_CLIENT_TESTS") != "1":
    pytest.skip("client tests run with make test-clients", allow_module_level=True)


@pytest.fixture(scope="module")
def server() -> Iterator[PgServer]:
    with pg_server() as running:
        assert running.shared is not None
        running.shared.base.run_sql(USERS_SQL)
        yield running


def run(args: list[str], env: dict[str, str] | None = None) -> list[str]:
    done = subprocess.run(
        args, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_pgjdbc_metadata_prepared_statements_and_errors(server: PgServer) -> None:
    assert shutil.which("java"), "install default-jdk-headless"
    assert JDBC_JAR.exists(), "install libpostgresql-jdbc-java"
    lines = run(["java", "-cp", str(JDBC_JAR), str(HERE / "PgjdbcCheck.java"), str(server.port)])
    assert lines[0].startswith("product PostgreSQL 15.0")
    assert "table users TABLE" in lines
    assert lines[lines.index("table users TABLE") + 1 :][:5] == [
        "column _id text 12 1",
        "column name text 12 2",
        "column age int8 -5 3",
        "column active bool -7 4",
        "column address jsonb 1111 5",
    ]
    assert "rows alan=41 grace=85" in lines
    assert "inserted 2" in lines
    assert "error 42883" in lines


def test_node_postgres(server: PgServer) -> None:
    assert shutil.which("node"), "install nodejs"
    assert (NODE_MODULES / "pg").exists(), "make test-clients installs pg into .clients"
    lines = run(
        ["node", str(HERE / "node_pg_check.js"), str(server.port)],
        env={"NODE_PATH": str(NODE_MODULES)},
    )
    assert lines == [
        "simple ada=36 alan=41 grace=85",
        "prepared alan,grace 3",
        "command INSERT 2",
        "error 42883 8",
    ]
