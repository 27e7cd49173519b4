"""Statements from one PostgreSQL session to queryleaf: session commands (SET, SHOW,
BEGIN/COMMIT/ROLLBACK, LISTEN) answered here, catalog statements by queryleaf.pgwire.catalog,
everything else through `Connection.execute_script` with dialect "postgres", exactly as the
shell runs it."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from queryleaf.compile import compile_statement, write_kind
from queryleaf.connection import Connection
from queryleaf.errors import QueryLeafError
from queryleaf.parse import split_statements
from queryleaf.pgwire import describe, types
from queryleaf.pgwire.outcome import Cancelled, Outcome, PgError
from queryleaf.pgwire.read_only import refuse_write
from queryleaf.pgwire.sqltext import dollar_params, leading_words, params_mapping
from queryleaf.pgwire.transactions import TransactionState
from queryleaf.plan.ddl import DDLPlan
from queryleaf.plan.plans import Plan
from queryleaf.result import Result

DIALECT = "postgres"
_SET = re.compile(
    r"^\s*SET\s+(?:SESSION\s+|LOCAL\s+)?(?P<name>[A-Za-z_][\w.]*)\s*(?:=|\bTO\b)\s*(?P<value>.*?)\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_SET_TIME_ZONE = re.compile(
    r"^\s*SET\s+(?:SESSION\s+|LOCAL\s+)?TIME\s+ZONE\s+(?P<value>.*?)\s*;?\s*$", re.I | re.S
)
_SHOW = re.compile(r"^\s*SHOW\s+(?P<name>.+?)\s*;?\s*$", re.IGNORECASE | re.DOTALL)
_CHANNEL = re.compile(
    r"^\s*(?:UN)?LISTEN\s+(?P<name>\"(?:[^\"]|\"\")+\"|[\w.$]+|\*)\s*;?\s*$", re.I
)

DEFAULT_SETTINGS = {
    "search_path": '"$user", public',
    "transaction_isolation": "read committed",
    "default_transaction_isolation": "read committed",
    "default_transaction_read_only": "off",
    "transaction_read_only": "off",
    "max_identifier_length": "63",
    "extra_float_digits": "1",
    "statement_timeout": "0",
    "lock_timeout": "0",
    "max_connections": "100",
    "bytea_output": "hex",
}


@dataclass
class Shared:
    """What every session of one server shares: the base connection, the catalog, the lock
    that serialises the embedded engine (it is not thread-safe), the LISTEN hub, options."""

    base: Connection
    read_only: bool = False
    lock: threading.RLock = field(default_factory=threading.RLock)
    fields: describe.FieldTypes | None = None
    catalog: Any = None
    listeners: Any = None
    live_timeout: float | None = None

    def __post_init__(self) -> None:
        if self.fields is None:
            self.fields = describe.FieldTypes(self.base.db)
        if self.base.backend != "embedded":
            self.lock = _NoLock()  # type: ignore[assignment]


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


class QueryBackend:
    def __init__(self, shared: Shared, session: Any) -> None:
        self.shared = shared
        self.session = session
        base = shared.base
        self.conn = Connection(base.db, client=base.client, backend=base.backend, dialect=DIALECT)
        self.conn.handlers = base.handlers
        # SHOW TABLES is read by the MySQL-flavoured parser only (it has no PostgreSQL form).
        self.mysql_conn = Connection(base.db, client=base.client, backend=base.backend)
        self.settings = dict(DEFAULT_SETTINGS)
        self.settings.update({k.lower(): v for k, v in session.server_parameters.items()})
        self.transaction = TransactionState()
        self.channels: set[str] = set()
        self._memo: dict[Any, tuple[float, Any]] = {}

    # --- the Backend protocol ---------------------------------------------------------------

    def transaction_status(self) -> str:
        return self.transaction.status

    def failed(self) -> None:
        """An error ended the statement: a transaction block is now failed."""
        self.transaction.error()

    def parameter_types(self, sql: str, given: list[int]) -> list[int]:
        return self._cached("types", (sql, tuple(given)), lambda: self._parameter_types(sql, given))

    def describe(self, sql: str, oids: list[int] | None = None) -> list[tuple[str, int]] | None:
        if self._catalog_handles(sql):
            return self._describe(sql, oids)  # the catalog changes with every collection
        key = (sql, tuple(oids or ()))
        return self._cached("describe", key, lambda: self._describe(sql, oids))

    def _cached(self, kind: str, key: Any, compute: Any) -> Any:
        """Parameter types and result columns per statement text, kept for describe.TTL
        seconds (the sampled field types they rest on are kept as long)."""
        now = time.monotonic()
        hit = self._memo.get((kind, key))
        if hit is not None and now - hit[0] < describe.TTL:
            return hit[1]
        value = compute()
        if len(self._memo) > 512:
            self._memo.clear()
        self._memo[(kind, key)] = (now, value)
        return value

    def _parameter_types(self, sql: str, given: list[int]) -> list[int]:
        if len([s for s in split_statements(sql) if s.text.strip()]) > 1:
            raise PgError("42601", "cannot insert multiple commands into a prepared statement")
        _text, count = dollar_params(sql)
        count = max(count, len(given))
        if count == 0:
            return []
        if self._catalog_handles(sql):
            return self.shared.catalog.parameter_types(sql, count, given)
        try:
            from queryleaf.parse import parse_sql

            tree = parse_sql(sql, DIALECT)
        except QueryLeafError:
            return [oid or types.TEXT for oid in given] + [types.TEXT] * (count - len(given))
        assert self.shared.fields is not None
        with self.shared.lock:
            return describe.parameter_types(tree, count, self.shared.fields, given)

    def _describe(self, sql: str, oids: list[int] | None) -> list[tuple[str, int]] | None:
        words = leading_words(sql, 2)
        first = words[0] if words else ""
        if first == "SHOW" and (len(words) < 2 or words[1] not in _QUERYLEAF_SHOW):
            name = self._show_name(sql)
            return [(name, types.TEXT)] if name != "all" else _SHOW_ALL_FIELDS
        if first in _SESSION_COMMANDS:
            return None
        if self._catalog_handles(sql):
            with self.shared.lock:
                return self.shared.catalog.describe(sql, self)
        text, count = dollar_params(sql)
        oids = list(oids or []) + [types.TEXT] * max(0, count - len(oids or []))
        params = (
            params_mapping([types.sample_value(oid) for oid in oids[:count]]) if count else None
        )
        assert self.shared.fields is not None
        with self.shared.lock:
            try:
                dialect = "mysql" if words[:2] == ["SHOW", "TABLES"] else DIALECT
                plan = compile_statement(text, dialect, params)
            except QueryLeafError as error:
                error.locate(text)
                error.pg_statement = sql  # type: ignore[attr-defined]
                raise
            if isinstance(plan, DDLPlan):
                return [(c.label, types.TEXT) for c in plan.columns or []] or None
            if getattr(plan, "kind", "") == "subscription" and first == "SHOW":
                from queryleaf.subscriptions.statements import SHOW_COLUMNS

                return [(name, types.TEXT) for name in SHOW_COLUMNS]
            if getattr(plan, "kind", "") == "live":
                return [(c.label, types.TEXT) for c in plan.columns]
            if isinstance(plan, Plan) or getattr(plan, "kind", "") == "explain":
                return describe.plan_fields(plan, self.shared.fields)
            return None

    def execute(self, sql: str, params: list[Any] | None) -> Iterator[Outcome]:
        if params is not None:
            yield self._statement(sql, 0, params, extended=True)
            return
        for statement in split_statements(sql):
            if not statement.text.strip():
                continue
            yield self._statement(statement.text, statement.offset, None, extended=False)

    # --- one statement ----------------------------------------------------------------------

    def _statement(
        self, text: str, offset: int, params: list[Any] | None, extended: bool
    ) -> Outcome:
        try:
            return self._run(text, params, extended)
        except QueryLeafError as error:
            error.locate(text)
            error.pg_statement = text  # type: ignore[attr-defined]
            error.pg_offset = offset  # type: ignore[attr-defined]
            raise

    def _run(self, text: str, params: list[Any] | None, extended: bool) -> Outcome:
        words = leading_words(text, 3)
        first = words[0] if words else ""
        if not words:
            return Outcome(empty=True)
        session = self._session_command(first, words, text)
        if session is not None:
            return session
        if self._catalog_handles(text):
            with self.shared.lock:
                return self.shared.catalog.execute(text, params, self)
        rewritten, count = dollar_params(text)
        bound = params_mapping(params) if params else None
        if count and not params:
            raise PgError("42P02", f"there is no parameter ${count}")
        conn = self.mysql_conn if words[:2] == ["SHOW", "TABLES"] else self.conn
        if self.shared.read_only:
            refuse_write(rewritten, conn.dialect, bound)
        results = conn.execute_script(rewritten, bound)
        with self.shared.lock:
            result = next(iter(results))
            wrote = write_kind(first, result.plan) is not None  # the read-only rule's verdict
            if wrote or result.kind in ("insert", "update", "delete"):
                self.transaction.wrote()
            outcome = self._outcome(result)
        return outcome

    def _outcome(self, result: Result) -> Outcome:
        notices = list(result.warnings)
        if result.live is not None:
            return self._live(result, notices)
        kind = result.kind
        count = max(result.rowcount, 0)
        if kind == "insert":
            return Outcome(tag=f"INSERT 0 {count}", notices=notices)
        if kind == "update":
            return Outcome(tag=f"UPDATE {count}", notices=notices)
        if kind == "delete":
            return Outcome(tag=f"DELETE {count}", notices=notices)
        if result.columns or result.is_query:
            labels = result.columns
            rows = [tuple(row.get(label) for label in labels) for row in result.rows]
            oids = [types.column_oid(row[i] for row in rows) for i in range(len(labels))]
            if kind == "explain":
                oids = [types.TEXT] * len(labels)
            return Outcome(
                columns=list(zip(labels, oids, strict=True)), rows=iter(rows), notices=notices
            )
        return Outcome(tag=result.tag.upper() if result.tag else "OK", notices=notices)

    def _live(self, result: Result, notices: list[str]) -> Outcome:
        """A live query streams rows as events commit, until LIMIT, the server's live
        timeout, a CancelRequest or the client hanging up (checked at every poll, so an idle
        stream stops too)."""
        from queryleaf.runtime.live_run import live_rows

        plan: Any = result.plan
        session = self.session
        labels = [column.label for column in plan.columns]

        def check() -> None:
            if session.cancel_requested or getattr(session, "disconnected", False):
                session.cancel_requested = False
                raise Cancelled()

        def rows() -> Iterator[tuple[Any, ...]]:
            for row in live_rows(plan, self.conn.db, self.shared.live_timeout, check=check):
                yield tuple(row.get(label) for label in labels)

        return Outcome(
            columns=[(label, types.TEXT) for label in labels],
            rows=rows(),
            notices=notices,
            live=True,
        )

    # --- session commands -------------------------------------------------------------------

    def _session_command(self, first: str, words: list[str], text: str) -> Outcome | None:
        transaction = self.transaction.handle(first, words, text)
        if transaction is not None:
            return transaction
        if first == "SET":
            return self._set(text)
        if first == "RESET":
            name = words[1].lower() if len(words) > 1 else ""
            if name in DEFAULT_SETTINGS:
                self.settings[name] = DEFAULT_SETTINGS[name]
            return Outcome(tag="RESET")
        if first == "SHOW" and (len(words) < 2 or words[1] not in _QUERYLEAF_SHOW):
            return self._show(text)
        if first == "DISCARD" and words[1:2] and words[1] in ("ALL", "PLANS", "SEQUENCES", "TEMP"):
            return Outcome(tag="DISCARD " + words[1])  # DISCARD DEAD_LETTER_EVENTS runs below
        if first == "DEALLOCATE":
            return Outcome(tag="DEALLOCATE")
        if first in ("LISTEN", "UNLISTEN"):
            return self._listen(first, text)
        if first in ("PREPARE", "LOCK", "VACUUM", "ANALYZE"):
            raise PgError("0A000", f"{first} is not supported by queryleaf")
        return None

    def _set(self, text: str) -> Outcome:
        zone = _SET_TIME_ZONE.match(text)
        if zone:
            self.settings["timezone"] = zone.group("value").strip("'")
            return Outcome(tag="SET")
        match = _SET.match(text)
        if match is None:
            if re.match(r"^\s*SET\s+(SESSION\s+CHARACTERISTICS|TRANSACTION)\b", text, re.I):
                return Outcome(tag="SET")
            raise PgError("42601", "syntax error in SET: use SET name = value")
        value = match.group("value").strip()
        if len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1].replace("''", "'")
        name = match.group("name").lower()
        if name == "client_encoding" and value.upper().replace("-", "") not in ("UTF8", "UNICODE"):
            raise PgError("0A000", f"queryleaf speaks UTF8 only, not client_encoding {value}")
        self.settings[name] = value
        reported = _REPORTED.get(name)
        if reported is None:
            return Outcome(tag="SET")
        shown = "UTF8" if name == "client_encoding" else value
        return Outcome(tag="SET", parameters={reported: shown})

    @staticmethod
    def _show_name(text: str) -> str:
        match = _SHOW.match(text)
        name = (match.group("name") if match else "").strip().lower()
        if name == "transaction isolation level":
            return "transaction_isolation"
        return name.replace(" ", "_")

    def _show(self, text: str) -> Outcome:
        name = self._show_name(text)
        if name == "all":
            rows = [(k, v, "") for k, v in sorted(self.settings.items())]
            return Outcome(columns=_SHOW_ALL_FIELDS, rows=iter(rows))
        if name not in self.settings:
            raise PgError("42704", f'unrecognized configuration parameter "{name}"')
        return Outcome(columns=[(name, types.TEXT)], rows=iter([(self.settings[name],)]))

    def setting(self, name: str) -> str | None:
        return self.settings.get(name.lower())

    def _listen(self, first: str, text: str) -> Outcome:
        match = _CHANNEL.match(text)
        if match is None:
            raise PgError("42601", f"syntax error in {first}: {first} channel_name")
        name = match.group("name")
        if name.startswith('"'):
            name = name[1:-1].replace('""', '"')
        hub = self.shared.listeners
        if first == "LISTEN":
            if hub is None:
                raise PgError("0A000", "LISTEN is not available on this server")
            hub.listen(self.session, name, self.conn)
            self.channels.add(name)
        else:
            targets = set(self.channels) if name == "*" else {name}
            for channel in targets:
                if hub is not None:
                    hub.unlisten(self.session, channel)
                self.channels.discard(channel)
        return Outcome(tag=first)

    def close(self) -> None:
        if self.shared.listeners is not None:
            for channel in list(self.channels):
                self.shared.listeners.unlisten(self.session, channel)

    def _catalog_handles(self, sql: str) -> bool:
        catalog = self.shared.catalog
        return catalog is not None and catalog.handles(sql)


# Settings whose changes PostgreSQL reports with ParameterStatus.
_REPORTED = {
    "application_name": "application_name",
    "client_encoding": "client_encoding",
    "datestyle": "DateStyle",
    "intervalstyle": "IntervalStyle",
    "timezone": "TimeZone",
    "standard_conforming_strings": "standard_conforming_strings",
}
_SESSION_COMMANDS = {
    "SAVEPOINT",
    "RELEASE",
    "BEGIN",
    "START",
    "COMMIT",
    "END",
    "ROLLBACK",
    "ABORT",
    "SET",
    "RESET",
    "DISCARD",
    "DEALLOCATE",
    "LISTEN",
    "UNLISTEN",
}
# queryleaf's own SHOW statements (run by the planner, not session settings).
_QUERYLEAF_SHOW = {
    "TABLES",
    "INDEXES",
    "INDEX",
    "KEYS",
    "COLUMNS",
    "FIELDS",
    "EVENT_SUBSCRIPTIONS",
    "FULL",
}
_SHOW_ALL_FIELDS = [("name", types.TEXT), ("setting", types.TEXT), ("description", types.TEXT)]
