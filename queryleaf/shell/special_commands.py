"""Backslash commands, declared once in REGISTRY: name, aliases, argument style, help and
handler. `\\?`, completion and "did you mean" all read the same table (as litecli does), so a
command cannot exist without its help text."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from queryleaf.shell import describe, schema_cache
from queryleaf.shell.completion import file_arguments
from queryleaf.shell.render import FORMATS
from queryleaf.shell.saved_queries import SavedQueryError, bind_arguments, placeholders

# How a command's argument completes: none, text, collection, file, format, saved, database,
# subscription, or "choice:a,b,c".
ArgKind = str


class Quit(Exception):
    """Raised by \\q to leave the shell."""


class CommandError(Exception):
    """A mistake in a backslash command; shown as one line, the shell carries on."""


class Shell(Protocol):
    """What a handler may use of the running shell (repl.Repl implements it)."""

    conn: Any
    settings: Any
    cache: Any
    saved: Any
    registry: Registry
    lock: Any

    def message(self, text: str) -> None: ...
    def show_rows(
        self, columns: list[str], rows: list[dict[str, Any]], count: bool = True
    ) -> None: ...
    def run_sql(self, text: str, params: Any = None, source_name: str | None = None) -> bool: ...
    def run_file(self, path: str) -> None: ...
    def set_output(self, path: str | None) -> None: ...
    def edit(self, text: str | None) -> None: ...
    def switch_database(self, name: str) -> None: ...


Handler = Callable[[Shell, str], None]


@dataclass(frozen=True)
class SpecialCommand:
    name: str
    aliases: tuple[str, ...]
    args: str  # usage of the arguments, as shown by \?
    arg_kind: ArgKind
    help: str
    handler: Handler

    @property
    def usage(self) -> str:
        return f"{self.name} {self.args}".rstrip()


class Registry:
    def __init__(self) -> None:
        self._commands: list[SpecialCommand] = []
        self._by_name: dict[str, SpecialCommand] = {}

    def command(
        self, name: str, *aliases: str, args: str = "", arg_kind: ArgKind = "none", help: str
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            command = SpecialCommand(name, aliases, args, arg_kind, help, handler)
            for key in (name, *aliases):
                if key in self._by_name:
                    raise ValueError(f"{key} is declared twice")
                self._by_name[key] = command
            self._commands.append(command)
            return handler

        return register

    def __iter__(self) -> Iterator[SpecialCommand]:
        return iter(self._commands)

    def resolve(self, name: str) -> SpecialCommand | None:
        return self._by_name.get(name) or self._by_name.get(name.lower())

    def is_command(self, line: str) -> bool:
        """Backslash commands, and the plain words (quit, exit, help) declared as aliases."""
        word = line.strip().rstrip(";").split(" ", 1)[0]
        return word.startswith("\\") or (word.lower() in self._by_name and bool(word))

    def suggestion(self, name: str) -> str | None:
        close = difflib.get_close_matches(name, list(self._by_name), n=1, cutoff=0.5)
        return close[0] if close else None

    def completion_names(self) -> list[tuple[str, str]]:
        """(name, help) of every backslash name, aliases included."""
        return [
            (key, command.help)
            for command in self._commands
            for key in (command.name, *command.aliases)
            if key.startswith("\\")
        ]

    def help_text(self) -> str:
        rows = []
        for command in self._commands:
            names = ", ".join(a for a in command.aliases if a.startswith("\\"))
            usage = command.usage + (f" ({names})" if names else "")
            rows.append((usage, command.help))
        width = max(len(usage) for usage, _ in rows)
        lines = [f"  {usage.ljust(width)}  {text}" for usage, text in rows]
        return "Special commands:\n" + "\n".join(lines) + "\nSQL statements end with ';'.\n"

    def execute(self, shell: Shell, line: str) -> None:
        text = line.strip()
        name, _, argument = text.partition(" ")
        name = name.rstrip(";")
        command = self.resolve(name)
        if command is None:
            close = self.suggestion(name)
            hint = f"; did you mean {close}?" if close else "; \\? lists the commands"
            raise CommandError(f"unknown command {name}{hint}")
        argument = argument.strip()
        if command.arg_kind != "text":
            argument = argument.rstrip(";").strip()
        command.handler(shell, argument)


REGISTRY = Registry()
command = REGISTRY.command


def _toggle(value: bool, argument: str, name: str) -> bool:
    if not argument:
        return not value
    if argument.lower() in {"on", "off"}:
        return argument.lower() == "on"
    raise CommandError(f"{name} takes on or off")


# --- describing the database ------------------------------------------------------------------


@command(
    "\\dt", args="[PATTERN]", arg_kind="collection", help="list collections with document counts"
)
def _list_collections(shell: Shell, argument: str) -> None:
    with shell.lock:
        rows = describe.collection_rows(shell.conn.db, argument)
    shell.show_rows(["collection", "documents"], rows)


@command("\\dv", args="[PATTERN]", arg_kind="collection", help="list views")
def _list_views(shell: Shell, argument: str) -> None:
    with shell.lock:
        rows = describe.view_rows(shell.conn.db, argument)
    shell.show_rows(["view", "view_on", "pipeline"], rows)


@command(
    "\\ds",
    args="[NAME]",
    arg_kind="subscription",
    help="list event subscriptions: declared status, whether and where they run, lag",
)
def _list_subscriptions(shell: Shell, argument: str) -> None:
    # The same table function a user can query: one source of truth for the listing.
    sql = (
        "SELECT name, service_name, status, running, running_on, status_reason, "
        "resume_token_lag_seconds AS lag_seconds, "
        "events_received, events_delivered, events_dead_lettered FROM EVENT_SUBSCRIPTIONS()"
    )
    params = None
    if argument:
        sql += " WHERE name = :name"
        params = {"name": argument}
    with shell.lock:
        result = shell.conn.run_sql(sql + " ORDER BY name", params)
    shell.show_rows(result.columns, result.rows)


@command("\\di", args="[COLLECTION]", arg_kind="collection", help="list indexes")
def _list_indexes(shell: Shell, argument: str) -> None:
    with shell.lock:
        names = [argument] if argument else describe.names(shell.conn.db, "collection")
        rows = [row for name in names for row in describe.index_rows(shell.conn.db, name)]
    shell.show_rows(["collection", "index", "keys", "unique", "options"], rows)


@command(
    "\\d",
    args="[COLLECTION]",
    arg_kind="collection",
    help="describe a collection: sampled fields and indexes",
)
def _describe(shell: Shell, argument: str) -> None:
    if not argument:
        _list_collections(shell, "")
        return
    db = shell.conn.db
    with shell.lock:
        known = dict(schema_cache.list_collections(db))
    if argument not in known:
        close = difflib.get_close_matches(argument, list(known), n=1)
        hint = f"; did you mean {close[0]}?" if close else "; \\dt lists the collections"
        raise CommandError(f"no collection named {argument!r}{hint}")
    with shell.lock:
        info = schema_cache.describe(db, argument, shell.cache.sample_size, known[argument])
        total = db[argument].estimated_document_count() if info.kind != "view" else None
        indexes = describe.index_rows(db, argument) if info.kind != "view" else []
    for row in indexes:
        del row["collection"]  # it is the one described
    counted = f"{total} document(s), " if total is not None else ""
    shell.message(f'{info.kind.title()} "{argument}": {counted}{info.sampled} sampled')
    shell.show_rows(["field", "types", "present"], describe.field_rows(info), count=False)
    if indexes:
        shell.message("Indexes:")
        shell.show_rows(["index", "keys", "unique", "options"], indexes, count=False)


# --- saved queries ----------------------------------------------------------------------------


@command(
    "\\f",
    args="[NAME [ARGS...]]",
    arg_kind="saved",
    help="list saved queries, or run one binding its ? / :name parameters",
)
def _saved(shell: Shell, argument: str) -> None:
    name, _, rest = argument.partition(" ")
    try:
        if not name:
            queries = shell.saved.load()
            rows = [
                {"name": key, "parameters": " ".join(placeholders(sql)) or None, "query": sql}
                for key, sql in queries.items()
            ]
            shell.show_rows(["name", "parameters", "query"], rows)
            return
        sql = shell.saved.get(name)
        params = bind_arguments(sql, rest)
    except SavedQueryError as error:
        raise CommandError(str(error)) from None
    shell.message(f"> {sql}")
    shell.run_sql(sql, params=params, source_name=f"saved query {name}")


@command(
    "\\fs",
    args="NAME QUERY",
    arg_kind="text",
    help="save a query (it may use ? or :name parameters)",
)
def _save(shell: Shell, argument: str) -> None:
    name, _, sql = argument.partition(" ")
    try:
        shell.saved.save(name, sql)
    except SavedQueryError as error:
        raise CommandError(str(error)) from None
    wanted = placeholders(sql)
    shown = f" with parameters {' '.join(wanted)}" if wanted else ""
    shell.message(f"Saved {name}{shown}.")


@command("\\fd", args="NAME", arg_kind="saved", help="delete a saved query")
def _delete_saved(shell: Shell, argument: str) -> None:
    try:
        shell.saved.delete(argument)
    except SavedQueryError as error:
        raise CommandError(str(error)) from None
    shell.message(f"Deleted {argument}.")


# --- settings and the session -----------------------------------------------------------------


@command(
    "\\x",
    args="[on|off|auto]",
    arg_kind="choice:on,off,auto",
    help="expanded rows: one field per line",
)
def _expanded(shell: Shell, argument: str) -> None:
    value = argument.lower()
    if not value:
        value = "off" if shell.settings.expanded == "on" else "on"
    if value not in {"on", "off", "auto"}:
        raise CommandError("\\x takes on, off or auto")
    shell.settings.expanded = value
    shell.message(f"Expanded display is {value}.")


@command(
    "\\timing", args="[on|off]", arg_kind="choice:on,off", help="show how long each statement takes"
)
def _timing(shell: Shell, argument: str) -> None:
    shell.settings.timing = _toggle(shell.settings.timing, argument, "\\timing")
    shell.message(f"Timing is {'on' if shell.settings.timing else 'off'}.")


@command(
    "\\format", args="[table|csv|json|ndjson]", arg_kind="format", help="set the output format"
)
def _format(shell: Shell, argument: str) -> None:
    if argument:
        if argument.lower() not in FORMATS:
            raise CommandError(f"unknown format {argument!r}: use {', '.join(FORMATS)}")
        shell.settings.format = argument.lower()
    shell.message(f"Output format is {shell.settings.format}.")


@command(
    "\\explain",
    args="[on|off]",
    arg_kind="choice:on,off",
    help="show the MongoDB command of each statement instead of running it",
)
def _explain(shell: Shell, argument: str) -> None:
    shell.settings.explain = _toggle(shell.settings.explain, argument, "\\explain")
    state = "on: statements are explained, not run" if shell.settings.explain else "off"
    shell.message(f"Explain is {state}.")


@command(
    "\\o",
    args="[FILE]",
    arg_kind="file",
    help="send results to FILE (all rows); \\o alone: back to the screen",
)
def _output(shell: Shell, argument: str) -> None:
    shell.set_output(argument or None)


@command("\\i", args="FILE", arg_kind="file", help="run the SQL script in FILE")
def _include(shell: Shell, argument: str) -> None:
    if not argument:
        raise CommandError("\\i needs a file name")
    shell.run_file(argument)


@command("\\e", args="", help="edit the current or last query in $EDITOR")
def _edit(shell: Shell, argument: str) -> None:
    shell.edit(argument or None)


@command("\\refresh", "\\#", help="sample the collections again for completion")
def _refresh(shell: Shell, argument: str) -> None:
    shell.cache.refresh()
    shell.cache.wait(30)
    shell.message(f"Completion knows {len(shell.cache.collections())} collection(s).")


@command(
    "\\c",
    "\\connect",
    args="[DATABASE]",
    arg_kind="database",
    help="use another database on the same server",
)
def _connect(shell: Shell, argument: str) -> None:
    if argument:
        shell.switch_database(argument)
    shell.message(f"Database {shell.conn.db.name}.")


# --- help and quitting ------------------------------------------------------------------------


@command("\\?", "\\h", "help", help="show the special commands")
def _help(shell: Shell, argument: str) -> None:
    shell.message(shell.registry.help_text())


@command("\\q", "\\quit", "quit", "exit", help="quit the shell (also Ctrl-D)")
def _quit(shell: Shell, argument: str) -> None:
    raise Quit


# --- completion of arguments ------------------------------------------------------------------


def argument_candidates(shell: Shell, command: str, word: str) -> list[tuple[str, str]]:
    """(text, meta) completions for the argument of `command`, from its arg_kind."""
    spec = shell.registry.resolve(command)
    kind = spec.arg_kind if spec else "none"
    if kind == "file":
        return list(file_arguments(word))
    if kind == "collection":
        candidates = shell.cache.collections()
    elif kind == "format":
        candidates = list(FORMATS)
    elif kind == "saved":
        try:
            candidates = list(shell.saved.load())
        except SavedQueryError:
            candidates = []
    elif kind == "subscription":
        candidates = shell.cache.subscriptions()
    elif kind.startswith("choice:"):
        candidates = kind.removeprefix("choice:").split(",")
    else:
        return []
    meta = kind.split(":")[0]
    return [(text, meta) for text in candidates if text.lower().startswith(word.lower())]
