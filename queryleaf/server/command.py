"""`queryleaf serve`: command-line options and the process around a `Service`.

    queryleaf serve [--data DIR] [--port 27018] [--bind 127.0.0.1] [--auth]
    queryleaf serve --data DIR --add-user NAME

Front ends besides the MongoDB listener register themselves in `FRONT_ENDS` (the PostgreSQL
protocol will: `queryleaf serve --pg-port N`); each adds its own options and is started after
the MongoDB listener and stopped before it. A front end reaches the data through
`service.uri` (pymongo to the MongoDB listener), never through the engine's objects directly,
so its writes are locked and journalled like every other client's.
"""

from __future__ import annotations

import argparse
import getpass
import ipaddress
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

PROGRAM = "queryleaf serve"
DEFAULT_PORT = 27018
PASSWORD_VARIABLE = "QUERYLEAF_PASSWORD"


class FrontEnd(Protocol):
    """Another protocol served beside MongoDB's (e.g. queryleaf.pgwire)."""

    name: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def start(self, args: argparse.Namespace, service: object) -> Callable[[], None] | None:
        """Start if the options ask for it; return the function that stops it."""
        ...


FRONT_ENDS: list[FrontEnd] = []


def default_data_directory() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(base) / "queryleaf" / "data"


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(
        prog=PROGRAM,
        description="A local MongoDB-protocol server on the embedded engine, durable on disk.",
    )
    parse.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"data directory (default {default_data_directory()})",
    )
    parse.add_argument(
        "--memory",
        action="store_true",
        help="keep nothing on disk (a scratch server: its data ends with it)",
    )
    parse.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        metavar="N",
        help=f"TCP port (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    parse.add_argument(
        "--bind",
        default="127.0.0.1",
        metavar="ADDR",
        help="address to listen on (default 127.0.0.1; any other needs --auth)",
    )
    parse.add_argument(
        "--advertise", metavar="HOST", help="host name the server reports to drivers"
    )
    parse.add_argument("--auth", action="store_true", help="require SCRAM-SHA-256 users")
    parse.add_argument(
        "--add-user",
        metavar="NAME",
        help=f"add a user to the data directory and exit (password from ${PASSWORD_VARIABLE} "
        "or a prompt)",
    )
    parse.add_argument(
        "--history-mb",
        type=float,
        default=256,
        metavar="MB",
        help="change-stream history kept for resuming (default 256; like the oplog size)",
    )
    parse.add_argument(
        "--snapshot-mb",
        type=float,
        default=64,
        metavar="MB",
        help="journal size that triggers a snapshot (default 64)",
    )
    parse.add_argument("--quiet", action="store_true", help="log warnings and errors only")
    for front_end in FRONT_ENDS:
        front_end.add_arguments(parse)
    return parse


def _loopback(address: str) -> bool:
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _password() -> str:
    password = os.environ.get(PASSWORD_VARIABLE)
    if password:
        return password
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise ValueError("the passwords differ")
    return first


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    data = None if args.memory else (args.data or default_data_directory())
    if args.add_user:
        if data is None:
            print(f"{PROGRAM}: --add-user needs a data directory", file=sys.stderr)
            return 2
        from .auth import Users

        try:
            Users(data / "users.json").add(args.add_user, _password())
        except ValueError as error:
            print(f"{PROGRAM}: {error}", file=sys.stderr)
            return 2
        print(f"user {args.add_user} added to {data}")
        return 0
    if not _loopback(args.bind) and not args.auth:
        print(
            f"{PROGRAM}: binding {args.bind} (not loopback) needs --auth with SCRAM users "
            "(add one with --add-user NAME)",
            file=sys.stderr,
        )
        return 2
    from .durable import DataDirectoryLocked
    from .service import Service

    service = Service(
        data,
        host=args.bind,
        port=args.port,
        auth=args.auth,
        advertise=args.advertise,
        history_mb=args.history_mb,
        snapshot_mb=args.snapshot_mb,
    )
    try:
        service.start()
    except DataDirectoryLocked as error:
        print(f"{PROGRAM}: {error}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:
        print(f"{PROGRAM}: cannot start: {error}", file=sys.stderr)
        return 1
    from queryleaf.runtime.stop_requests import StopRequest

    done = StopRequest()
    done.install()  # before any line a client may wait for
    stoppers = []
    try:
        for front_end in FRONT_ENDS:
            stop = front_end.start(args, service)
            if stop is not None:
                stoppers.append(stop)
    except SystemExit:  # a front end refused its options: stop what started, then exit
        for stop in reversed(stoppers):
            stop()
        service.stop()
        raise
    where = "in memory" if data is None else str(data)
    print(f"listening on {args.bind}:{service.port} ({where})", flush=True)
    done.wait()
    for stop in reversed(stoppers):
        stop()
    service.stop()
    return 0
