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
import shutil
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from bson import json_util

from queryleaf.shell import render

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
        type=float,
        metavar="SECONDS",
        help="stop a live query (EMIT CHANGES) after this many seconds; without it a live "
        "query runs until its LIMIT or Ctrl-C",
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
                sources.append(Source(path, handle.read()))
        except OSError as error:
            raise UsageError(f"cannot read {path}: {error.strerror or error}") from None
        except UnicodeDecodeError as error:
            raise UsageError(f"cannot read {path}: not UTF-8 text ({error.reason})") from None
    if not sources:
        if stdin is None or stdin.isatty():
            raise UsageError(NO_REPL)
        sources.append(Source(STDIN, _read_stdin(stdin)))
    return sources


def _read_stdin(stdin: TextIO | None) -> str:
    if stdin is None:
        raise UsageError("no stdin to read SQL from")
    try:
        return stdin.read()
    except UnicodeDecodeError as error:
        raise UsageError(f"cannot read stdin: not UTF-8 text ({error.reason})") from None


# --- output ----------------------------------------------------------------------------------


class Printer:
    """Writes each Result as it arrives, in one of render.FORMATS.

    table: query results as tables followed by `(N rows)`, EXPLAIN as its pretty command
    and notes, writes as psql-style tags (`INSERT 2`); a blank line between a table and
    whatever is next to it. csv: one header-and-rows block per query result, blocks
    separated by a blank line. json: one array per query result, each on its own line.
    ndjson: one object per row. Writes print nothing in the last three."""

    def __init__(
        self,
        fmt: str,
        out: TextIO,
        *,
        width: int | None = None,
        color: bool = False,
        ascii_only: bool = False,
    ) -> None:
        self.format = fmt
        self.out = out
        self.width = width
        self.color = color
        self.ascii_only = ascii_only
        self._written = False
        self._last_was_block = False
        self.timeout: float | None = None  # for live queries (EMIT CHANGES)

    def result(self, result: Any) -> None:
        if getattr(result, "live", None) is not None:
            from queryleaf.shell.live_output import stream_live

            if self._written:
                self.out.write("\n")
            stream_live(result, self.format, self.out, self.timeout)
            self._written = self._last_was_block = True
            return
        has_rows = bool(result.is_query or result.columns)
        if self.format != "table":
            if has_rows:
                text = render.RENDERERS[self.format](result.columns, result.rows)
                self._emit(text, block=self.format == "csv")
            return
        if result.kind == "explain":
            self._emit(render.render_explain(result.columns, result.rows), block=True)
        elif has_rows:
            table = render.render_table(
                result.columns,
                result.rows,
                width=self.width,
                color=self.color,
                ascii_only=self.ascii_only,
            )
            self._emit(table + render.row_count(len(result.rows)) + "\n", block=True)
        else:
            self._emit(render.command_tag(result.tag, result.rowcount) + "\n", block=False)

    def _emit(self, text: str, *, block: bool) -> None:
        if not text:
            return
        if self._written and (block or self._last_was_block):
            self.out.write("\n")
        self.out.write(text)
        self.out.flush()
        self._written = True
        self._last_was_block = block


def table_settings(out: TextIO) -> dict[str, Any]:
    """Width, colour and box characters for tables on `out`: a terminal gets its width and
    colour (unless NO_COLOR is set or TERM=dumb); anything else gets no colour and
    $COLUMNS or render.DEFAULT_WIDTH."""
    tty = _isatty(out)
    if tty:
        width = shutil.get_terminal_size((render.DEFAULT_WIDTH, 24)).columns
    else:
        width = _int_env("COLUMNS") or render.DEFAULT_WIDTH
    color = tty and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
    encoding = (getattr(out, "encoding", None) or "utf-8").lower().replace("-", "")
    return {"width": width, "color": color, "ascii_only": not encoding.startswith("utf")}


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _int_env(name: str) -> int | None:
    try:
        value = int(os.environ.get(name, ""))
    except ValueError:
        return None
    return value if value > 0 else None


def format_error(error: Any, name: str) -> str:
    """`FILE:line:col: [CODE] message`, then the caret excerpt and the hint, from a
    QueryLeafError; `name` stands in when the error has no source of its own."""
    where = error.source_name or name
    if error.line is not None:
        where = f"{where}:{error.line}:{error.column}"
    lines = [f"{where}: [{error.code}] {error.message}"]
    if error.excerpt:
        lines.append(error.excerpt)
    if error.hint:
        lines.append(f"hint: {error.hint}")
    return "\n".join(lines)


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


# --- main ------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (the console script exits with it)."""
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] == ["worker"]:  # `queryleaf worker ...`: see queryleaf/shell/worker.py
        from queryleaf.shell import worker

        return worker.main(args[1:])
    if args[:1] == ["serve"]:  # `queryleaf serve ...`: see queryleaf/server/command.py
        from queryleaf.server import command

        return command.main(args[1:])
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
    if not args.commands and not args.files and _isatty(sys.stdin):
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
    printer = Printer(args.format, out, **table_settings(out))
    printer.timeout = args.timeout
    current = PROGRAM

    def clean(text: str) -> str:
        return text.replace(args.uri, redact_uri(args.uri)) if args.uri else text

    try:
        with connect(args.uri, args.db or DEFAULT_DATABASE) as conn:
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
        out.flush()
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
