"""The interactive shell: `queryleaf` with no SQL on a terminal.

One loop: read an input with prompt-toolkit (highlighting, completion, history, multi-line
until `;`), then run it either as a backslash command from the registry or as SQL through
the same Connection the Python API uses, with the safety guards in front and the result
shown through render.py. Nothing here blocks on the database except running a statement;
completion reads the background schema cache."""

from __future__ import annotations

import argparse
import difflib
import os
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.application import get_app
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.enums import DEFAULT_BUFFER
from prompt_toolkit.filters import Condition, completion_is_selected, has_focus
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.history import History, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

from queryleaf.errors import QueryLeafError
from queryleaf.parse import split_statements
from queryleaf.shell import highlight, output, safety, script_includes, statement_notes
from queryleaf.shell.completion import ShellCompleter, tables_in_scope
from queryleaf.shell.config import BoundedFileHistory, Config, load_config
from queryleaf.shell.describe import describe_backend
from queryleaf.shell.saved_queries import SavedQueries
from queryleaf.shell.schema_cache import SchemaCache
from queryleaf.shell.screen import OutputError, Screen
from queryleaf.shell.special_commands import REGISTRY, CommandError, Quit, argument_candidates
from queryleaf.shell.spinner import Spinner
from queryleaf.shell.sqltext import code_tokens, first_keyword, statement_complete


@dataclass
class Settings:
    """What backslash commands change during a session (seeded from the config)."""

    format: str = "table"
    expanded: str = "auto"
    timing: bool = True
    explain: bool = False
    row_limit: int = 1000
    pager: str = "auto"
    pager_command: str = "less -SRXF"
    destructive: tuple[str, ...] = ()
    read_only: bool = False


class Repl:
    """One interactive session on `conn`. `input`/`output` are prompt-toolkit's (pipe input
    and DummyOutput in tests); `out`/`err` receive results and messages."""

    def __init__(
        self,
        conn: Any,
        config: Config | None = None,
        *,
        uri: str | None = None,
        read_only: bool = False,
        input: Any = None,
        output: Any = None,
        out: TextIO | None = None,
        err: TextIO | None = None,
        history: History | None = None,
        spinner_delay: float = 1.0,
        params: Any = None,
    ) -> None:
        self.conn = conn
        self.config = config or Config()
        self.uri = uri
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.registry = REGISTRY
        config = self.config
        self.settings = Settings(
            format=config.format,
            expanded=config.expanded,
            timing=config.timing,
            row_limit=config.row_limit,
            pager=config.pager,
            pager_command=config.resolved_pager_command(),
            destructive=config.destructive,
            read_only=read_only or config.read_only,
        )
        # The embedded engine is not thread-safe: statements and background samples take
        # turns. A real server needs no such care.
        embedded = getattr(conn, "backend", "") == "embedded"
        self.lock: Any = threading.RLock() if embedded else nullcontext()
        self.cache = SchemaCache(lambda: self.conn.db, config.sample_size, self.lock)
        self.saved = SavedQueries(config.saved_queries_path())
        self.spinner_delay = spinner_delay
        self.params = params  # --param values, for `:name` in typed statements
        self.screen = Screen(self.out, self.err, self.settings, self._clean)
        self._next_input = ""
        self._last_query = ""
        self._noted_embedded = False  # the embedded engine's live-query note, once
        self._databases: dict[str, Any] = {}
        style, warning = highlight.style(config.color_scheme)
        if warning:
            self.config.warnings.append(warning)
        self._input, self._output = input, output
        self.session: PromptSession[str] = PromptSession(
            message=self._prompt,
            multiline=Condition(lambda: not self._complete(self.session.default_buffer.text)),
            prompt_continuation=self._continuation,
            lexer=highlight.lexer(config.color_scheme),
            style=style,
            include_default_pygments_style=style is not None,
            completer=ShellCompleter(
                self.cache.collections,
                self.cache.fields,
                REGISTRY.completion_names,
                self._arguments,
                self.cache.subscriptions,
            ),
            complete_while_typing=True,
            history=history if history is not None else self._history(),
            auto_suggest=AutoSuggestFromHistory(),
            enable_history_search=False,  # Up walks history; Ctrl-R searches it
            key_bindings=_key_bindings(lambda text: self._complete(text)),
            input=input,
            output=output,
            color_depth=None,
        )

    # --- the loop ----------------------------------------------------------------------------

    def run(self, banner: str | None = None) -> int:
        self.message(banner if banner is not None else self.banner())
        for warning in self.config.warnings:
            self.warn(warning)
        self.cache.refresh()
        try:
            while True:
                default, self._next_input = self._next_input, ""
                try:
                    text = self.session.prompt(default=default)
                except KeyboardInterrupt:
                    continue  # Ctrl-C clears the input, as in psql
                except EOFError:
                    break  # Ctrl-D
                try:
                    self.handle(text)
                except Quit:
                    break
                except KeyboardInterrupt:
                    self.warn("cancelled")  # the statement stopped; the shell goes on
        finally:
            self.close()
        return 0

    def handle(self, text: str) -> None:
        """One input: a backslash command, `SQL \\e` (edit), or SQL."""
        stripped = text.strip()
        if not stripped:
            return
        try:
            if self.registry.is_command(stripped):
                self.registry.execute(self, stripped)
            elif stripped.endswith("\\e"):
                self.edit(stripped[:-2].rstrip())
            else:
                self._last_query = stripped
                self.run_sql(text)  # reports its own errors
        except (CommandError, OutputError, OSError, QueryLeafError) as error:
            self.warn(f"error: {error}")
        except (Quit, KeyboardInterrupt):
            raise
        except Exception as error:  # a MongoDB error in \dt, \d ..., or a bug: no traceback
            self.screen.exception(error, None)

    def _complete(self, text: str) -> bool:
        """Enter runs the input when this is true, else starts a new line."""
        return statement_complete(text) or self.registry.is_command(text)

    def close(self) -> None:
        self.cache.close()
        self.screen.close()

    # --- running SQL -------------------------------------------------------------------------

    def run_sql(self, text: str, params: Any = None, source_name: str | None = None) -> bool:
        """Run every statement of `text`, showing each result; False when one failed, was
        refused or was declined (the rest then do not run)."""
        if self.settings.explain:
            text = _explained(text)
        if params is None:
            params = self.params
        wrote: set[str] | None = set()  # collections written to; None: unknown, sample all
        try:
            for statement, run in safety.steps(self.conn, text, params, source_name):
                if self.settings.read_only:
                    safety.refuse_write(self.conn, statement, text, params, source_name)
                reason = safety.destructive_reason(
                    self.conn, statement, params, self.settings.destructive
                )
                if reason and not self.confirm(f"{reason} Run it?"):
                    self.warn("cancelled: the statement did not run")
                    return False
                if wrote is not None and safety.write_kind(statement.text) is not None:
                    targets = [name for name, _ in tables_in_scope(code_tokens(statement.text))]
                    wrote = wrote.union(targets) if targets else None
                started = time.perf_counter()
                with self.lock, Spinner(self.err, self.spinner_delay):
                    result = run()
                if result.live is not None:
                    self._stream(result)
                    if self.settings.timing:
                        self.message(output.format_elapsed(time.perf_counter() - started))
                    continue
                elapsed = time.perf_counter() - started
                notes = self._missing_collections(statement.text) if result.is_query else []
                if result.is_query and not notes:
                    notes += self._unknown_columns(statement.text, result)
                self.screen.show_result(result, elapsed, notes)
            return True
        except QueryLeafError as error:
            self.screen.error(error, source_name)
        except Exception as error:  # MongoDB's errors, and bugs: one line, no traceback
            self.screen.exception(error, source_name)
        finally:
            if wrote is None or wrote:
                self.cache.refresh(wrote)
        return False

    def _stream(self, result: Any) -> None:
        """A live query: rows print as events arrive, until LIMIT or Ctrl-C (which ends the
        query, not the shell); the status line (queryleaf.shell.live_status) says what it
        waits for from the first moment, then counts the events and their rate."""
        from queryleaf.shell.live_output import stream_live
        from queryleaf.shell.live_status import LiveStatus, embedded_note, watched_text
        from queryleaf.shell.printer import isatty

        if getattr(self.conn, "backend", "") == "embedded" and not self._noted_embedded:
            self._noted_embedded = True
            self.warn(embedded_note())
        status = LiveStatus(self.err, watched_text(result), isatty(self.err))
        status.show()
        try:
            stream_live(
                result,
                self.settings.format,
                self.out,
                on_row=status.after_row,
                before_row=status.before_row,
            )
        except KeyboardInterrupt:
            status.end()
            self.warn("live query stopped")
        except BaseException:
            status.before_row()  # erased: the error is printed on a line of its own
            raise
        else:
            status.end()
        result.live = None

    def _missing_collections(self, statement: str) -> list[str]:
        """MongoDB reads a missing collection as an empty one, so a typo in FROM gives no
        rows (or a count of 0) silently; say so. The cache answers first, so the database
        is asked only about names it has not seen."""
        names = dict.fromkeys(
            name
            for name, _ in tables_in_scope(code_tokens(statement))
            if not statement_notes.is_table_function(name, statement)
        )
        unseen = [name for name in names if name not in self.cache.collections()]
        if not unseen:
            return []
        db = self.conn.db
        with self.lock:
            known = db.list_collection_names()
        notes = []
        for name in unseen:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"; did you mean {close[0]}?" if close else ""
                notes.append(f"there is no collection {name} in database {db.name}{hint}")
        return notes

    def _unknown_columns(self, statement: str, result: Any) -> list[str]:
        """A selected column that is NULL in every row and in no sampled document: say so,
        with the closest field names (a typo in a column reads as NULL in MongoDB)."""

        def fields_of(name: str) -> list[str] | None:
            with self.lock:
                return statement_notes.sampled_fields(self.conn.db, name, self.cache.fields(name))

        return statement_notes.unknown_column_notes(statement, self.conn.dialect, result, fields_of)

    def run_file(self, path: str) -> None:
        try:
            text = Path(path).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(
                f"cannot read {path}: {getattr(error, 'strerror', None) or error}"
            ) from None
        try:  # its own \\i and \\ir lines run the scripts they name
            parts = script_includes.expand(path, text)
        except script_includes.IncludeError as error:
            raise CommandError(str(error)) from None
        for name, part in parts:
            if not self.run_sql(part, source_name=name):
                return

    def confirm(self, question: str) -> bool:
        session: PromptSession[str] = PromptSession(input=self._input, output=self._output)
        try:
            answer = session.prompt(f"{question} [y/N] ")
        except (KeyboardInterrupt, EOFError):
            return False
        return answer.strip().lower() in {"y", "yes"}

    # --- output ------------------------------------------------------------------------------

    def message(self, text: str) -> None:
        self.screen.message(text)

    def warn(self, text: str) -> None:
        self.screen.warn(text)

    def show_rows(self, columns: list[str], rows: list[dict[str, Any]], count: bool = True) -> None:
        self.screen.show_rows(columns, rows, count)

    def set_output(self, path: str | None) -> None:
        self.screen.set_output(path)

    def _clean(self, text: str) -> str:
        if not self.uri:
            return text
        from queryleaf.engines import redact_uri

        return text.replace(self.uri, redact_uri(self.uri))

    # --- prompt ------------------------------------------------------------------------------

    def _prompt(self) -> FormattedText:
        name = self.conn.db.name
        flags = [
            flag
            for flag, on in (("ro", self.settings.read_only), ("explain", self.settings.explain))
            if on
        ]
        label = f"{name} ({', '.join(flags)})" if flags else name
        return FormattedText([("class:prompt", f"{label}> ")])

    def _continuation(self, width: int, line_number: int, is_soft_wrap: bool) -> FormattedText:
        mark = "" if is_soft_wrap else "-> "  # only real line breaks get the arrow
        return FormattedText([("class:continuation", mark.rjust(width))])

    def _history(self) -> History:
        try:
            return BoundedFileHistory(self.config.history_path(), self.config.history_size)
        except OSError as error:
            self.config.warnings.append(f"history is not saved: {error}")
            return InMemoryHistory()

    def _arguments(self, command: str, word: str) -> list[tuple[str, str]]:
        return argument_candidates(self, command, word)

    # --- editor, databases, banner -----------------------------------------------------------

    def edit(self, text: str | None) -> None:
        """Open $VISUAL/$EDITOR on `text` (default: the last query); the edited text
        becomes the next input, to check and run with Enter."""
        initial = text if text else self._last_query
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        with tempfile.NamedTemporaryFile(
            "w", suffix=".sql", delete=False, encoding="utf-8"
        ) as handle:
            handle.write(initial + ("\n" if initial else ""))
            path = handle.name
        try:
            code = subprocess.call([*shlex.split(editor), path])
            if code != 0:
                raise CommandError(f"{editor} exited with status {code}; nothing changed")
            self._next_input = Path(path).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise CommandError(f"cannot run {editor}: {error.strerror or error}") from None
        finally:
            os.unlink(path)

    def switch_database(self, name: str) -> None:
        from queryleaf.connection import Connection

        conn = self.conn
        client = conn.client
        self._databases.setdefault(conn.db.name, conn)
        if name not in self._databases:
            self._databases[name] = Connection(
                client[name], client=client, backend=conn.backend, dialect=conn.dialect
            )
        self.conn = self._databases[name]
        self.cache.refresh()

    def banner(self) -> str:
        from queryleaf import __version__

        backend, streams = describe_backend(self.conn, self.uri)
        return (
            f"queryleaf {__version__} - {backend}, database {self.conn.db.name}\n"
            f"Change streams: {streams}\n"
            "Statements end with ';'. \\? lists the commands, \\q or Ctrl-D quits.\n"
        )


def _explained(text: str) -> str:
    """`text` with EXPLAIN in front of each statement (for \\explain on)."""
    try:
        statements = split_statements(text)
    except QueryLeafError:
        return text  # running it reports the error
    return ";\n".join(
        s.text if first_keyword(s.text) == "EXPLAIN" else f"EXPLAIN {s.text}" for s in statements
    )


def _key_bindings(complete: Any) -> KeyBindings:
    bindings = KeyBindings()

    @bindings.add("enter", filter=completion_is_selected)
    def _close_menu(event: KeyPressEvent) -> None:
        # Enter takes the highlighted completion instead of running the statement (pgcli).
        event.current_buffer.complete_state = None

    unfinished = Condition(lambda: not complete(get_app().current_buffer.text))
    # Only in the statement itself: Enter in the Ctrl-R search field accepts the search.
    editing = has_focus(DEFAULT_BUFFER)

    @bindings.add("enter", filter=~completion_is_selected & editing & unfinished)
    def _new_line(event: KeyPressEvent) -> None:
        # A new line of an unfinished statement starts at the margin: prompt-toolkit would
        # copy the line's indentation, and typed or pasted indentation then piles up.
        event.current_buffer.newline(copy_margin=False)

    return bindings


def main(args: argparse.Namespace) -> int:
    """The shell for `queryleaf` with no SQL on a terminal. --uri, --db, --read-only and a
    --format other than the default win over the config file; --param values bind the
    `:name` placeholders of every statement typed."""
    from pymongo.errors import PyMongoError

    from queryleaf import connect

    config = load_config(Path(args.config).expanduser() if getattr(args, "config", None) else None)
    uri = args.uri or config.uri or None
    database = args.db or config.database
    if args.format != "table":
        config.format = args.format
    try:
        conn = connect(uri, database, connect_timeout=getattr(args, "connect_timeout", None))
    except QueryLeafError as error:
        print(f"queryleaf: {error}", file=sys.stderr)
        return 1
    with conn:
        params = dict(args.params) or None
        repl = Repl(conn, config, uri=uri, read_only=args.read_only, params=params)
        try:
            # A real server answers `hello` here, or is not reached within --connect-timeout.
            with Spinner(sys.stderr, label="connecting" if uri else "running"):
                banner = repl.banner()
        except PyMongoError as error:
            from queryleaf.engines.mongodb import unreachable_error

            unreachable = unreachable_error(error)
            text = str(unreachable) if unreachable else f"cannot use the database: {error}"
            print(f"queryleaf: {repl._clean(text)}", file=sys.stderr)
            return 1
        return repl.run(banner)
