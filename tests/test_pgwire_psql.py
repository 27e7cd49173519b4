"""psql (Debian postgresql-client) against `PgServer`: `\\dt`, `\\d`, queries, an error with its
caret, and the seed's dashboard view. Under CI=true a missing psql fails; locally it skips."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from queryleaf.pgwire.server import PgServer
from tests.pgwire_support import USERS_SQL, pg_server

PSQL = shutil.which("psql")
EXAMPLES = pathlib.Path(__file__).parent.parent / "examples" / "microservices"

if PSQL is None:
    if os.environ.get("CI") == "true":
        pytest.fail("psql is missing: .ci/run installs postgresql-client", pytrace=False)
    pytest.skip("psql is not installed (Debian postgresql-client)", allow_module_level=True)


@pytest.fixture(scope="module")
def server() -> Iterator[PgServer]:
    with pg_server() as running:
        assert running.shared is not None
        base = running.shared.base
        base.run_sql(USERS_SQL)
        base.run_sql("CREATE INDEX users_age ON users (age)")
        base.run_sql((EXAMPLES / "event_stream_metrics_view.sql").read_text())
        base.run_sql((EXAMPLES / "seed" / "dashboard_view.sql").read_text())
        yield running


def psql(server: PgServer, *commands: str) -> subprocess.CompletedProcess[str]:
    args = [PSQL or "psql", "-X", "-h", "127.0.0.1", "-p", str(server.port), "-U", "ql"]
    args += ["-d", "queryleaf", "-v", "ON_ERROR_STOP=0"]
    for command in commands:
        args += ["-c", command]
    env = {**os.environ, "PGCONNECT_TIMEOUT": "5", "PAGER": "cat"}
    return subprocess.run(args, capture_output=True, text=True, timeout=30, env=env, check=False)


def test_psql_lists_tables_and_describes_one(server: PgServer) -> None:
    done = psql(server, "\\dt", "\\d users", "\\dv")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert " public | users | table | ql" in out
    assert 'Table "public.users"' in out
    for line in (" name    | text ", " age     | bigint ", " address | jsonb "):
        assert line in out
    assert '"_id_" PRIMARY KEY, btree (_id)' in out
    assert '"users_age" btree (age)' in out
    assert " public | microservices_event_dashboard | view " in out


def test_psql_runs_queries_and_shows_an_error_with_its_caret(server: PgServer) -> None:
    done = psql(
        server,
        "SELECT name, age FROM users WHERE age > 40 ORDER BY age",
        "SELECT nosuch(age) FROM users",
    )
    assert " alan  |  41\n grace |  85\n(2 rows)" in done.stdout
    assert "ERROR:  [QL302] unknown function NOSUCH" in done.stderr
    assert "LINE 1: SELECT nosuch(age) FROM users\n               ^" in done.stderr


def test_psql_reads_the_seeds_dashboard_view(server: PgServer) -> None:
    done = psql(
        server,
        "SELECT active_subscriptions, queued_events, overall_system_health "
        "FROM microservices_event_dashboard",
    )
    assert done.returncode == 0, done.stderr
    lines = [[cell.strip() for cell in line.split("|")] for line in done.stdout.splitlines()]
    assert lines[0] == ["active_subscriptions", "queued_events", "overall_system_health"]
    assert lines[2][:2] == ["0", "0"]
    assert lines[2][2] != ""
    assert lines[3] == ["(1 row)"]


def test_psql_ctrl_c_cancels_a_live_query(server: PgServer) -> None:
    import signal
    import time

    args = [PSQL or "psql", "-X", "-h", "127.0.0.1", "-p", str(server.port), "-U", "ql"]
    args += ["-d", "queryleaf", "-c"]
    args += ["SELECT event_type FROM CHANGE_STREAM_EVENTS('psql_live') EMIT CHANGES"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)
        process.send_signal(signal.SIGINT)  # psql sends a CancelRequest, as on Ctrl-C
        _, stderr = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
    assert "canceling statement due to user request" in stderr
