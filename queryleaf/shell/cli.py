"""The `queryleaf` command: run the SQL of `-e`, of files or of stdin and print the results.

    queryleaf -e "SELECT name FROM users"            # a statement on the command line
    queryleaf setup.sql report.sql                   # scripts, in order, on one database
    queryleaf --format json < report.sql             # SQL on stdin, rows as Extended JSON

Exit status: 0 when every statement ran, 1 when a statement failed (the ones before it
ran, the ones after it did not) or the database cannot be used, 2 for a usage mistake
(bad option, unreadable file, no SQL and a terminal on stdin), 70 for a bug in queryleaf,
130 when interrupted. docs/cli.md is the user documentation."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bson import json_util

from queryleaf.shell import render
from queryleaf.shell.arguments import seconds
from queryleaf.shell.printer import (
    BATCH_MAX_WIDTH,
    Printer,
    format_error,
    isatty,
    table_settings,
)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 70  # EX_SOFTWARE
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for `queryleaf ... | head`
EXIT_INTERRUPTED = 130  # 128 + SIGINT

DEFAULT_DATABASE = "queryleaf"
COMMAND_LINE = "<command-line>"
STDIN = "<stdin>"
PROGRAM = "queryleaf"

NO_REPL = (
    "queryleaf: the interactive shell is not available yet.\n"
    'Give SQL with -e "...", as script files, or on stdin (queryleaf < script.sql).\n'
    "See queryleaf --help."
)


class UsageError(Exception):
    """A mistake in how the command was called; reported without running anything."""


@dataclass(frozen=True)
class Source:
    """One script to run: its display name (for error positions) and its text."""

    name: str
    text: str


# --- command line ----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    from queryleaf import __version__

    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        description="Run SQL on MongoDB (or on an embedded in-memory engine) and print "
        "the results. Statements are separated by semicolons and run in order; the first "
        "error stops the run.",
        epilog="Without -e or FILE, SQL is read from stdin. Exit status: 0 success, 1 a "
        "statement or the database failed, 2 usage error, 70 internal error.",
    )
    parser.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="SQL script to run ('-' for stdin); several run in order on the same database",
    )
    parser.add_argument(
        "-e",
        "--execute",
        action="append",
        dest="commands",
        default=[],
        metavar="SQL",
        help="SQL to run (repeatable; runs before any FILE)",
    )
    parser.add_argument(
        "--uri",
        metavar="URI",
        help="MongoDB connection string (mongodb://... or mongodb+srv://...); "
        "without it a fresh embedded in-memory engine is used",
    )
    parser.add_argument(
        "--db",
        default=None,  # None: the shell's config decides, else DEFAULT_DATABASE
        metavar="NAME",
        help=f"database name (default: {DEFAULT_DATABASE})",
    )
    parser.add_argument(
        "--format",
        choices=render.FORMATS,
        default="table",
        help="output format (default: %(default)s); csv, json and ndjson print only rows",
    )
    parser.add_argument(
        "--param",
        action="append",
        dest="params",
        default=[],
        type=parse_param,
        metavar="NAME=VALUE",
        help="value of the :NAME placeholder (repeatable); VALUE is read as (Extended) "
        "JSON when it is valid JSON, else taken as a string",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="refuse every statement that writes (INSERT, UPDATE, DELETE, DROP, CREATE...)",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="the interactive shell's config file (default: $XDG_CONFIG_HOME/queryleaf/config)",
    )
    parser.add_argument(
        "--timeout",
        type=seconds,
        metavar="SECONDS",
        help="stop a live query (EMIT CHANGES) after this many seconds; without it a live "
        "query runs until its LIMIT or Ctrl-C",
    )
    parser.add_argument(
        "--connect-timeout",
        type=seconds,
        default=None,
        metavar="SECONDS",
        help="how long to look for the MongoDB server of --uri before giving up (default: 2)",
    )
    parser.add_argument(
        "--max-width",
        type=int,
        default=None,
        metavar="CHARS",
        help="cut table cells longer than this many characters, ending them with '…' "
        f"(default: {BATCH_MAX_WIDTH}; 0 never cuts); csv, json and ndjson are never cut",
    )
    parser.add_argument("--version", action="version", version=f"{PROGRAM} {__version__}")
    return parser


def parse_param(text: str) -> tuple[str, Any]:
    """`name=value` to (name, value). The value is JSON when it parses as JSON (so 42 is a
    number, true a boolean, null NULL, "42" a string, {"$oid": "..."} an ObjectId and
    {"$date": "..."} a datetime), otherwise the text as it is."""
    name, sep, value = text.partition("=")
    name = name.strip().removeprefix(":")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name, json_util.loads(value, json_options=render.EXTENDED_JSON)
    except ValueError:
        return name, value  # not JSON: a plain string
    except Exception as error:  # valid JSON, invalid Extended JSON ({"$oid": 1})
        raise argparse.ArgumentTypeError(
            f"invalid Extended JSON for {name}: {error}; quote it as a JSON string to pass text"
        ) from None


def _quote_execute_values(argv: list[str]) -> list[str]:
    """`-e SQL` as `--execute=SQL`, so SQL that starts with '-' (a `--` comment) is not
    taken for an option."""
    fixed: list[str] = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            fixed.extend(argv[index:])
            break
        if arg in {"-e", "--execute"} and index + 1 < len(argv):
            fixed.append(f"--execute={argv[index + 1]}")
            index += 2
            continue
        fixed.append(arg)
        index += 1
    return fixed


def read_sources(args: argparse.Namespace, stdin: TextIO | None) -> list[Source]:
    """The scripts to run, all read before anything runs so a missing file runs nothing."""
    sources = [Source(COMMAND_LINE, command) for command in args.commands]
    if args.files.count("-") > 1:
        raise UsageError("stdin ('-') can be given only once")
    for path in args.files:
        if path == "-":
            sources.append(Source(STDIN, _read_stdin(stdin)))
            continue
        try:
            with open(path, encoding="utf-8") as handle:
                sources += _with_includes(path, handle.read(), None)
        except OSError as error:
            raise UsageError(f"cannot read {path}: {error.strerror or error}") from None
        except UnicodeDecodeError as error:
            raise UsageError(f"cannot read {path}: not UTF-8 text ({error.reason})") from None
    if not sources:
        if stdin is None or stdin.isatty():
            raise UsageError(NO_REPL)
        sources.append(Source(STDIN, _read_stdin(stdin)))
    expanded: list[Source] = []
    for source in sources:  # \i and \ir in -e text and stdin: relative to the working directory
        file = source.name not in (COMMAND_LINE, STDIN)
        expanded += [source] if file else _with_includes(source.name, source.text, Path.cwd())
    return expanded


def _with_includes(name: str, text: str, base: Path | None) -> list[Source]:
    """The script with its `\\i FILE` / `\\ir FILE` lines replaced by those scripts."""
    from queryleaf.shell.script_includes import IncludeError, expand

    try:
        return [Source(part_name, part) for part_name, part in expand(name, text, base=base)]
    except IncludeError as error:
        raise UsageError(str(error)) from None


def _read_stdin(stdin: TextIO | None) -> str:
    if stdin is None:
        raise UsageError("no stdin to read SQL from")
    try:
        return stdin.read()
    except UnicodeDecodeError as error:
        raise UsageError(f"cannot read stdin: not UTF-8 text ({error.reason})") from None


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


# --- main ------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (the console script exits with it)."""
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] == ["worker"]:  # `queryleaf worker ...`: see queryleaf/shell/worker_command.py
        from queryleaf.shell import worker_command as worker

        return worker.main(args[1:])
    if args[:1] == ["serve"]:  # `queryleaf serve ...`: see queryleaf/shell/serve_command.py
        from queryleaf.shell import serve_command

        return serve_command.main(args[1:])
    try:
        return _main(args)
    except KeyboardInterrupt:
        print(f"{PROGRAM}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except Exception as error:  # a bug outside the statements (an import, the parser...)
        _report_internal(error, PROGRAM, sys.stderr, lambda text: text)
        return EXIT_INTERNAL


def _main(argv: list[str]) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(_quote_execute_values(argv))
    except SystemExit as exit_:  # --help, --version, usage errors: argparse printed them
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    if not args.commands and not args.files and isatty(sys.stdin):
        from queryleaf.shell import repl

        return repl.main(args)
    try:
        sources = read_sources(args, sys.stdin)
    except UsageError as error:
        message = str(error)
        prefix = "" if message.startswith(PROGRAM) else f"{PROGRAM}: "
        print(prefix + message, file=sys.stderr)
        return EXIT_USAGE
    return _run(args, sources, sys.stdout, sys.stderr)


def _run(args: argparse.Namespace, sources: list[Source], out: TextIO, err: TextIO) -> int:
    from pymongo.errors import PyMongoError

    from queryleaf import connect
    from queryleaf.engines import redact_uri
    from queryleaf.errors import QueryLeafError
    from queryleaf.shell.safety import run_script

    params = dict(args.params) or None
    max_width = BATCH_MAX_WIDTH if args.max_width is None else args.max_width
    printer = Printer(args.format, out, **table_settings(out, batch=True), max_width=max_width)
    printer.timeout = args.timeout
    current = PROGRAM

    def clean(text: str) -> str:
        text = text.replace(args.uri, redact_uri(args.uri)) if args.uri else text
        # A lone surrogate (from undecodable argv bytes) is shown escaped, not raised.
        return text.encode("utf-8", "backslashreplace").decode("utf-8")

    try:
        with connect(
            args.uri, args.db or DEFAULT_DATABASE, connect_timeout=args.connect_timeout
        ) as conn:
            conn.read_only = bool(args.read_only)
            for source in sources:
                current = source.name
                for result in run_script(
                    conn, source.text, params, source.name, read_only=args.read_only
                ):
                    printer.result(result)
                    for warning in getattr(result, "warnings", None) or []:
                        print(f"{source.name}: warning: {warning}", file=err)
    except QueryLeafError as error:
        out.flush()
        print(clean(format_error(error, current)), file=err)
        return EXIT_ERROR
    except PyMongoError as error:
        from queryleaf.engines.mongodb import unreachable_error

        out.flush()
        unreachable = unreachable_error(error)
        if unreachable is not None:
            print(clean(format_error(unreachable, current)), file=err)
            return EXIT_ERROR
        print(clean(f"{current}: MongoDB error: {_one_line(error)}"), file=err)
        return EXIT_ERROR
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except Exception as error:
        out.flush()
        _report_internal(error, current, err, clean)
        return EXIT_INTERNAL
    return EXIT_OK


def _report_internal(
    error: Exception, where: str, err: TextIO, clean: Callable[[str], str]
) -> None:
    print(clean(f"{where}: internal error: {_one_line(error)}"), file=err)
    if os.environ.get("QUERYLEAF_DEBUG"):
        text = "".join(traceback.format_exception(error)).rstrip()
        print(clean(text), file=err)
    else:
        print(
            f"{PROGRAM}: this is a bug in queryleaf; set QUERYLEAF_DEBUG=1 to see the traceback",
            file=err,
        )


def _silence_stdout() -> None:
    """After EPIPE, point stdout at /dev/null so the interpreter's final flush is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


if __name__ == "__main__":
    sys.exit(main())
