"""`queryleaf serve`: the local MongoDB-protocol server (queryleaf.server) with, on `--pg-port`,
PostgreSQL's protocol beside it (queryleaf.pgwire) over the same database, which it reaches
through the MongoDB listener so its writes are locked and journalled like every client's.

    queryleaf serve --data DIR                      # MongoDB protocol on 127.0.0.1:27018
    queryleaf serve --data DIR --pg-port 5433       # and PostgreSQL's on 127.0.0.1:5433
    queryleaf serve --pg-port 5433 --uri mongodb://host/?replicaSet=rs0   # PostgreSQL only

With `--uri` the data lives in that MongoDB, so only the PostgreSQL protocol is served.
docs/server.md and docs/pgwire.md are the user documentation."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

PROGRAM = "queryleaf serve"


class PostgresFrontEnd:
    """queryleaf.pgwire as a front end of queryleaf.server (server.command.FRONT_ENDS)."""

    name = "postgresql"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from queryleaf.pgwire.command import add_arguments

        add_arguments(parser)

    def start(self, args: argparse.Namespace, service: Any) -> Callable[[], None] | None:
        if args.pg_port is None:
            return None
        from queryleaf.pgwire.command import describe, start_or_report

        args.uri = service.uri
        server = start_or_report(args)
        if server is None:
            raise SystemExit(2)
        print(describe(args, server), flush=True)
        return server.stop


def main(argv: Sequence[str]) -> int:
    args = list(argv)
    if _given(args, "--uri"):
        from queryleaf.pgwire import command as pg_only

        if not _given(args, "--pg-port"):
            print(
                f"{PROGRAM}: --uri serves another MongoDB over PostgreSQL's protocol: give "
                "--pg-port too (without --uri, queryleaf serve serves its own data directory)",
                file=sys.stderr,
            )
            return 2
        return pg_only.main(args)
    if "--auth" in args and _given(args, "--pg-port"):
        # The front end reaches the data through the listener, which would want a user.
        print(
            f"{PROGRAM}: --pg-port beside an --auth server is not supported; run "
            "`queryleaf serve --pg-port N --uri mongodb://USER:PASSWORD@HOST:PORT/` next to it",
            file=sys.stderr,
        )
        return 2
    from queryleaf.server import command

    if not any(isinstance(f, PostgresFrontEnd) for f in command.FRONT_ENDS):
        command.FRONT_ENDS.append(PostgresFrontEnd())
    return command.main(args)


def _given(args: list[str], option: str) -> bool:
    return any(a == option or a.startswith(option + "=") for a in args)
