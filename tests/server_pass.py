"""The suite's second pass: the same tests, through pymongo, against `queryleaf serve`.

Starts a server on a free port with a fresh data directory, runs the tests below with
QUERYLEAF_TEST_URI pointing at it, stops the server and exits with pytest's status. Run by
`make test` after the first pass (python -m tests.server_pass [pytest args]).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading

# Result, DDL, subscription, runtime, shared-stream and showcase tests, plus the other tests that
# reach the database through the `conn` fixture: writes, functions, windows, push-down, errors,
# the seed's statements, live queries, runtime failures, webhooks, replay and the worker.
SECOND_PASS = [
    "tests/test_result_cases.py",
    "tests/test_ddl.py",
    "tests/test_writes.py",
    "tests/test_functions.py",
    "tests/test_windows.py",
    "tests/test_pushdown.py",
    "tests/test_guard_boundaries.py",
    "tests/test_errors.py",
    "tests/test_scalar_subquery_rows.py",
    "tests/test_subquery_lookups.py",
    "tests/test_seed_statements.py",
    "tests/test_subscriptions.py",
    "tests/test_live_queries.py",
    "tests/test_runtime.py",
    "tests/test_runtime_failures.py",
    "tests/test_runtime_webhooks.py",
    "tests/test_replay.py",
    "tests/test_worker.py",
    "tests/test_shared_streams.py",
    "tests/test_showcase.py",
    "tests/server_pass_check.py",  # last: the tests above reached the server
]
START_TIMEOUT = 30.0


def start_server(data: str, *extra: str) -> tuple[subprocess.Popen[str], int]:
    """A `queryleaf serve` process on a free port, and that port."""
    process = subprocess.Popen(
        [sys.executable, "-m", "queryleaf", "serve", "--data", data, "--port", "0", *extra],
        stdout=subprocess.PIPE,
        text=True,
    )
    found: list[int] = []

    def read() -> None:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r":(\d+) ", line)
        if match:
            found.append(int(match.group(1)))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(START_TIMEOUT)
    if not found:
        process.kill()
        raise RuntimeError("queryleaf serve did not start")
    return process, found[0]


def stop_server(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="queryleaf-serve-") as data:
        process, port = start_server(data, "--quiet")
        try:
            env = dict(os.environ)
            env["QUERYLEAF_TEST_URI"] = f"mongodb://127.0.0.1:{port}/?directConnection=true"
            command = [sys.executable, "-m", "pytest", "-q", *(argv or SECOND_PASS)]
            status = subprocess.call(command, env=env)
        finally:
            stop_server(process)
        return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
