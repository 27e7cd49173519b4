"""A private MariaDB server for the differential test: a data directory in a temporary folder
(made by mariadb-install-db), a socket in that folder and no TCP port, stopped when the test
session ends.

The server runs under a small shell watchdog in its own process group: the watchdog stops the
server when the pytest process that started it is gone (killed, crashed), so no server outlives
the session even when the fixture's teardown never runs.

Under CI (CI=true) a missing `mariadbd` is an error; elsewhere the caller may skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT = 60.0

# Server settings that make the reference answer as MySQL 8 does by default (UTC, the utf8mb4
# character set) and keep the server small; utf8mb4_nopad_bin compares strings by code point, as
# queryleaf does everywhere (docs/sql.md: "Strings compare and search by code point"), and
# NO PAD, as MySQL 8's utf8mb4_0900 collations (MariaDB's utf8mb4_bin ignores trailing spaces).
SERVER_OPTIONS = [
    "--skip-networking",
    "--skip-grant-tables",
    "--skip-log-bin",
    "--default-time-zone=+00:00",
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_nopad_bin",
    "--innodb-buffer-pool-size=16M",
    "--innodb-log-file-size=8M",
    "--performance-schema=OFF",
    "--skip-name-resolve",
    "--max-connections=10",
    "--sql-mode=ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION",
]


class MariaDBMissing(RuntimeError):
    """mariadbd or mariadb-install-db is not installed."""


@dataclass
class MariaDB:
    folder: Path
    socket: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        shutil.rmtree(self.folder, ignore_errors=True)


def _binary(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin")
    if found is None:
        raise MariaDBMissing(f"{name} is not installed (Debian package mariadb-server)")
    return found


def start() -> MariaDB:
    """Start a private server and wait until it accepts connections on its socket."""
    server = _binary("mariadbd")
    install = _binary("mariadb-install-db")
    folder = Path(tempfile.mkdtemp(prefix="queryleaf-mariadb-"))
    data = folder / "data"
    socket = folder / "mysqld.sock"
    user = ["--user=root"] if os.geteuid() == 0 else []
    subprocess.run(
        [
            install,
            "--no-defaults",
            f"--datadir={data}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            *user,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=120,
    )
    command = [
        server,
        "--no-defaults",
        f"--datadir={data}",
        f"--socket={socket}",
        f"--pid-file={folder / 'mysqld.pid'}",
        f"--log-error={folder / 'error.log'}",
        *user,
        *SERVER_OPTIONS,
    ]
    # The watchdog: run the server, and stop it (and remove its folder) when this (the pytest)
    # process is gone.
    watchdog = (
        '"$@" & server=$!; '
        "trap 'kill -TERM $server 2>/dev/null; wait $server; exit 0' TERM INT; "
        f"while kill -0 {os.getpid()} 2>/dev/null && kill -0 $server 2>/dev/null; do "
        "sleep 1 & wait $!; done; "
        f"kill -TERM $server 2>/dev/null; wait $server; rm -rf '{folder}'"
    )
    process = subprocess.Popen(
        ["sh", "-c", watchdog, "mariadb-watchdog", *command],
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    handle = MariaDB(folder=folder, socket=socket, process=process)
    deadline = time.monotonic() + START_TIMEOUT
    while not socket.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            log = (
                (folder / "error.log").read_text(errors="replace")[-2000:]
                if (folder / "error.log").exists()
                else ""
            )
            handle.stop()
            raise RuntimeError(f"mariadbd did not start:\n{log}")
        time.sleep(0.1)
    return handle
