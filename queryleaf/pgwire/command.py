"""`queryleaf serve --pg-port N`: the PostgreSQL-protocol server from the command line.

`add_arguments(parser)` declares the options (so `queryleaf serve` can combine them with the
MongoDB-protocol server's); `main(argv)` runs the PostgreSQL server alone."""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Sequence
from typing import Any

from queryleaf.errors import QueryLeafError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("PostgreSQL protocol")
    group.add_argument("--pg-port", type=int, help="serve PostgreSQL's protocol on this port")
    group.add_argument(
        "--pg-bind",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; any other address needs --pg-user)",
    )
    group.add_argument(
        "--pg-user",
        action="append",
        default=[],
        metavar="NAME:PASSWORD",
        help="a user allowed in with SCRAM-SHA-256 (repeatable; PASSWORD may be "
        "env:VARIABLE); without any, loopback clients are trusted",
    )
    group.add_argument("--tls-cert", help="certificate file (PEM) for TLS")
    group.add_argument("--tls-key", help="private key file (PEM) for TLS")
    group.add_argument("--pg-max-connections", type=int, default=64)
    group.add_argument(
        "--pg-idle-timeout",
        type=float,
        default=3600.0,
        help="seconds before an idle client is closed",
    )
    parser.add_argument("--read-only", action="store_true", help="refuse every write")
    parser.add_argument("--uri", help="MongoDB URI (default: the embedded engine)")
    parser.add_argument("--database", default="queryleaf", help="database name")


def users(specs: Sequence[str]) -> dict[str, str] | None:
    found: dict[str, str] = {}
    for spec in specs:
        name, sep, password = spec.partition(":")
        if not sep or not name:
            raise SystemExit(f"--pg-user takes NAME:PASSWORD, got {spec!r}")
        if password.startswith("env:"):
            password = os.environ.get(password[4:], "")
            if not password:
                raise SystemExit(
                    f"--pg-user {name}: environment variable {spec[len(name) + 5 :]} is empty"
                )
        found[name] = password
    return found or None


def build_server(args: argparse.Namespace):
    from queryleaf.pgwire.server import PgServer

    tls = None
    if args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            raise SystemExit("--tls-cert and --tls-key go together")
        tls = (args.tls_cert, args.tls_key)

    def connect():
        import queryleaf

        return queryleaf.connect(args.uri, args.database)

    return PgServer(
        connect=connect,
        host=args.pg_bind,
        port=args.pg_port,
        auth=users(args.pg_user),
        tls=tls,
        read_only=args.read_only,
        max_connections=args.pg_max_connections,
        idle_timeout=args.pg_idle_timeout,
    )


def describe(args: argparse.Namespace, server: Any) -> str:
    """The line that says where PostgreSQL clients connect."""
    return (
        f"queryleaf: PostgreSQL protocol on {args.pg_bind}:{server.port} "
        f"({'SCRAM-SHA-256' if args.pg_user else 'trust, loopback only'}"
        f"{', TLS' if args.tls_cert else ''}{', read-only' if args.read_only else ''})"
    )


def start_or_report(args: argparse.Namespace) -> Any:
    """The started server, or None after saying on stderr why it could not start."""
    try:
        return build_server(args).start()
    except QueryLeafError as error:
        print(f"queryleaf serve: [{error.code}] {error.message}", file=sys.stderr)
        if error.hint:
            print(f"hint: {error.hint}", file=sys.stderr)
    except OSError as error:
        print(
            f"queryleaf serve: cannot listen on {args.pg_bind}:{args.pg_port}: {error}",
            file=sys.stderr,
        )
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="queryleaf serve", description="Serve queryleaf over PostgreSQL's wire protocol."
    )
    add_arguments(parser)
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.pg_port is None:
        parser.error("--pg-port is required")
    server = start_or_report(args)
    if server is None:
        return 2
    from queryleaf.runtime.stop_requests import StopRequest

    stop = StopRequest()
    stop.install()
    print(describe(args, server), flush=True)
    stop.wait()
    stopping = threading.Thread(target=server.stop, daemon=True)
    stopping.start()
    stopping.join(10)
    return 0
