"""`queryleaf worker`: the command line of the worker service (queryleaf.runtime.worker).

    queryleaf worker --uri mongodb://host/?replicaSet=rs0 --db app
    queryleaf worker --uri ... --subscription audit --subscription mirror --metrics-port 9108
    queryleaf worker --uri ... --handler billing=myapp.handlers:on_order

`--handler NAME=MODULE:CALLABLE` imports a Python callable for subscriptions delivering to
'handler:NAME'; those whose handler was not given are skipped with a warning. It exits 0
after a clean stop (SIGTERM or SIGINT). docs/cli.md is the user documentation."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any

from queryleaf.runtime.worker import PROGRAM, run_worker
from queryleaf.shell.arguments import seconds

# A service rides through a replica-set election (which takes seconds) instead of failing
# deliveries: pymongo's own server-selection default, not the shell's quick 2 s.
WORKER_CONNECT_TIMEOUT = 30.0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        description="Run event subscriptions until SIGTERM or SIGINT. Each subscription runs "
        "in one worker at a time (leases in event_subscription_leases).",
        epilog="Subscriptions delivering to 'handler:NAME' run when --handler gives NAME a "
        "callable, and are skipped with a warning otherwise.",
    )
    parser.add_argument("--uri", metavar="URI", help="MongoDB connection string")
    parser.add_argument("--db", default="queryleaf", metavar="NAME", help="database name")
    parser.add_argument(
        "--subscription",
        action="append",
        dest="subscriptions",
        default=[],
        metavar="NAME",
        help="run only this subscription (repeatable); default: every active one",
    )
    parser.add_argument(
        "--handler",
        action="append",
        dest="handlers",
        default=[],
        metavar="NAME=MODULE:CALLABLE",
        help="deliver_to = 'handler:NAME' calls MODULE.CALLABLE (imported from the current "
        "directory or the installed packages; repeatable)",
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve Prometheus metrics on 127.0.0.1:PORT/metrics (and /health)",
    )
    parser.add_argument(
        "--connect-timeout",
        type=seconds,
        default=WORKER_CONNECT_TIMEOUT,
        metavar="SECONDS",
        help=f"how long to look for a MongoDB server before an operation fails "
        f"(default {WORKER_CONNECT_TIMEOUT:g})",
    )
    return parser


def load_handler(spec: str) -> tuple[str, Any]:
    """`NAME=MODULE:CALLABLE` to (NAME, the callable); ValueError naming what is wrong."""
    name, _, path = spec.partition("=")
    module_name, _, attribute = path.partition(":")
    if not name or not module_name or not attribute:
        raise ValueError(f"--handler {spec!r}: expected NAME=MODULE:CALLABLE")
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")  # like `python -m`: modules of the current directory
    try:
        value: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            value = getattr(value, part)
    except ImportError as error:
        raise ValueError(f"--handler {spec!r}: cannot import {module_name}: {error}") from None
    except AttributeError:
        raise ValueError(f"--handler {spec!r}: {module_name} has no {attribute}") from None
    if not callable(value):
        raise ValueError(f"--handler {spec!r}: {module_name}.{attribute} is not callable")
    return name, value


def main(argv: Sequence[str]) -> int:
    """`queryleaf worker ...` (argv without the `worker` word); the exit status."""
    from pymongo.errors import PyMongoError

    from queryleaf import connect
    from queryleaf.errors import QueryLeafError

    parser = build_parser()
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        handlers = dict(load_handler(spec) for spec in args.handlers)
    except ValueError as error:
        print(f"{PROGRAM}: {error}", file=sys.stderr)
        return 2
    if args.uri is None:
        print(
            f"{PROGRAM}: warning: no --uri: running on a fresh embedded in-memory engine, "
            "which has no subscriptions",
            file=sys.stderr,
        )
    try:
        conn = connect(args.uri, args.db, connect_timeout=args.connect_timeout)
    except (QueryLeafError, PyMongoError) as error:
        print(f"{PROGRAM}: {error}", file=sys.stderr)
        return 1
    for name, handler in handlers.items():
        conn.register_handler(name, handler)
    try:
        return run_worker(conn, args.subscriptions, args.metrics_port)
    finally:
        conn.close()
