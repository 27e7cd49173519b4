"""`queryleaf serve --pg-port` from the command line."""

from __future__ import annotations

import pathlib
import subprocess
import sys

from tests.pgwire_support import client

psycopg = client("psycopg")

SERVE = "from queryleaf.shell.cli import main; raise SystemExit(main(sys.argv[1:]))"


def test_serve_pg_port_answers_psycopg_and_stops_on_sigterm(tmp_path: pathlib.Path) -> None:
    errors = (tmp_path / "stderr.txt").open("w")  # a file: a full pipe would block the server
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; " + SERVE,
            "serve",
            "--memory",
            "--port",
            "0",
            "--pg-port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=errors,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "PostgreSQL protocol on 127.0.0.1:" in line, (tmp_path / "stderr.txt").read_text()
        port = int(line.split("127.0.0.1:")[1].split()[0])
        with psycopg.connect(host="127.0.0.1", port=port, user="ql", dbname="queryleaf",
                             autocommit=True, connect_timeout=5) as conn:  # fmt: skip
            conn.execute("INSERT INTO t (a) VALUES (1), (2)")
            assert conn.execute("SELECT count(*) FROM t").fetchone() == (2,)
        process.terminate()
        assert process.wait(30) == 0, (tmp_path / "stderr.txt").read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
        errors.close()


def test_serve_refuses_a_public_bind_without_users() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import sys; " + SERVE, "serve", "--memory", "--port", "0", "--pg-port", "0", "--pg-bind", "0.0.0.0"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "without authentication" in done.stderr


def test_serve_with_a_uri_needs_a_pg_port() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import sys; " + SERVE, "serve", "--uri", "mongodb://127.0.0.1:1/"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "give --pg-port too" in done.stderr


def test_serve_refuses_pg_beside_an_auth_server(tmp_path: pathlib.Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import sys; " + SERVE, "serve", "--data", str(tmp_path),
         "--port", "0", "--auth", "--pg-port", "0", "--quiet"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "--auth server is not supported" in done.stderr
