"""The served engine: one embedded client shared by every connection, one lock, durability.

Every command runs under one lock (the engine is not thread-safe, and a reader must never see a
collection mid-write), except the waits of change-stream getMores and of fsync. A command's
changes, captured by the engine's journal, become one journal record appended before the lock
is released; the reply is sent once the record is on disk (fsyncs are shared between
concurrent writers), and only then do change streams see the changes.

Records are physical for document writes (the document as it stands after the command, or its
deletion) and logical for DDL (the command itself, re-run on recovery); both carry the changes
for the change-stream history and, for retryable writes, the session's last reply.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bson import Timestamp
from mongomock_ng import helpers

from queryleaf.engines.embedded import new_client
from queryleaf.engines.embedded.change_streams import events as change_events

from .cursors import CursorRegistry
from .durable import DurableStore, frame
from .errors import CommandError, engine_error, error_reply
from .history import DurableJournal, decode_change, encode_change
from .javascript import refuse_javascript

log = logging.getLogger("queryleaf.server")

DEFAULT_HISTORY_CHANGES = 100_000
_DOCUMENT_OPS = frozenset(
    {change_events.INSERT, change_events.UPDATE, change_events.REPLACE, change_events.DELETE}
)
# Generic fields of a command that are not part of what a logical record re-runs.
_GENERIC = frozenset(
    {
        "lsid",
        "txnNumber",
        "$clusterTime",
        "$db",
        "writeConcern",
        "readConcern",
        "$readPreference",
        "comment",
        "maxTimeMS",
        "apiVersion",
        "apiStrict",
        "apiDeprecationErrors",
    }
)
MAX_SESSIONS = 100_000


@dataclass
class Connection:
    """What the server knows of one client connection."""

    id: int
    peer: str = ""
    user: str | None = None
    conversation: Any = None  # a SCRAM exchange under way
    stats: dict[str, int] = field(default_factory=dict)


@dataclass
class Call:
    """One command being run."""

    engine: Engine
    conn: Connection
    db: str
    command: dict[str, Any]
    name: str

    def database(self) -> Any:
        return self.engine.client.get_database(self.db)

    def collection_name(self, key: str | None = None) -> str:
        value = self.command.get(key or self.name)
        if not isinstance(value, str) or not value:
            raise CommandError(
                73, f"collection name has invalid type {type(value).__name__}: {value!r}"
            )
        if "\x00" in value or value.startswith("$"):
            raise CommandError(73, f"Invalid collection name: {value!r}")
        return value

    def collection(self, key: str | None = None) -> Any:
        return self.database().get_collection(self.collection_name(key))

    def namespace(self, key: str | None = None) -> str:
        return f"{self.db}.{self.collection_name(key)}"


Handler = Callable[[Call], dict[str, Any]]


@dataclass(frozen=True)
class Spec:
    handler: Handler
    locked: bool = True  # run under the engine lock (False: the handler takes it as needed)
    write: bool = False  # a retryable write (its reply is kept per session)
    logical: bool = False  # journalled as the command itself (DDL)
    open: bool = False  # allowed before authentication


def registry() -> dict[str, Spec]:
    from . import commands_admin, commands_crud, commands_cursors, commands_schema

    table: dict[str, Spec] = {}
    for module in (commands_admin, commands_crud, commands_cursors, commands_schema):
        table.update(module.COMMANDS)
    return table


class Engine:
    def __init__(
        self,
        store: DurableStore | None = None,
        *,
        history_changes: int = DEFAULT_HISTORY_CHANGES,
        history_bytes: int = 256 * 1024 * 1024,
        address: str = "127.0.0.1:27018",
        auth: Any = None,
    ) -> None:
        self.client = new_client()
        self.journal = DurableJournal(history_changes)
        self.journal.immediate = store is None
        # Installed before anything reads the store, so every write goes through it.
        self.client._store.__dict__["_ql_journal"] = self.journal
        self.lock = threading.RLock()
        self.store = store
        self.cursors = CursorRegistry()
        self.sessions: dict[bytes, tuple[int, dict[str, Any]]] = {}
        self.history_bytes = history_bytes
        self.address = address
        self.auth = auth  # queryleaf.server.auth.Users, or None: no authentication
        self.started = time.time()
        self.commands = registry()
        self.connections = 0
        self.counters: dict[str, int] = {}
        self.total_connections = 0
        self._ids = 0
        self._ids_lock = threading.Lock()

    # --- connections ---------------------------------------------------------------------------

    def connect(self, peer: str) -> Connection:
        with self._ids_lock:
            self._ids += 1
            self.connections += 1
            self.total_connections += 1
            return Connection(self._ids, peer)

    def disconnect(self, conn: Connection) -> None:
        with self._ids_lock:
            self.connections -= 1

    # --- running commands ----------------------------------------------------------------------

    def execute(self, command: dict[str, Any], database: str | None, conn: Connection) -> dict:
        """The reply to one command document (never raises for a bad command)."""
        name = next(iter(command), "")
        spec = self.commands.get(name)
        if spec is None and name.lower() == "ismaster":
            spec = self.commands.get("isMaster")
        if spec is None:
            return self._stamp(error_reply(59, f"no such command: '{name}'"))
        if database is None:
            return self._stamp(error_reply(40571, "OP_MSG requests require a $db argument"))
        if self.auth is not None and conn.user is None and not spec.open:
            return self._stamp(error_reply(13, f"command {name} requires authentication"))
        if command.get("startTransaction") or command.get("autocommit") is False:
            return self._stamp(
                error_reply(
                    20,
                    "multi-document transactions are not supported by queryleaf serve; "
                    "write without a transaction",
                )
            )
        self.counters[name] = self.counters.get(name, 0) + 1
        if _asks_collation(command):
            return self._stamp(error_reply(238, "collation is not supported by queryleaf serve"))
        try:
            refuse_javascript(name, command)
        except CommandError as error:
            return self._stamp(error.reply())
        call = Call(self, conn, database, command, name)
        reply = self._locked(call, spec) if spec.locked else self._run(spec, call)
        return self._stamp(reply)

    def _stamp(self, reply: dict[str, Any]) -> dict[str, Any]:
        reply.setdefault("ok", 1.0)
        _seq, when = self.journal.end()
        operation_time = Timestamp(*when) if when[0] else Timestamp(int(self.started), 1)
        reply["operationTime"] = operation_time
        reply["$clusterTime"] = {
            "clusterTime": operation_time,
            "signature": {"hash": b"\x00" * 20, "keyId": 0},
        }
        return reply

    def _run(self, spec: Spec, call: Call) -> dict[str, Any]:
        try:
            return spec.handler(call)
        except CommandError as error:
            return error.reply()
        except Exception as error:
            mapped = engine_error(error)
            if mapped is None:
                log.exception("command %s failed", call.name)
                return error_reply(1, f"internal error in {call.name}: {error!r}")
            code, message, details = mapped
            extra = {k: v for k, v in details.items() if k in ("keyPattern", "keyValue")}
            return error_reply(code, message, **extra)

    def _locked(self, call: Call, spec: Spec) -> dict[str, Any]:
        session = _session_key(call.command) if spec.write else None
        ticket, visible = 0, 0
        with self.lock:
            previous = self.sessions.get(session[0]) if session is not None else None
            if previous is not None and session is not None and previous[0] == session[1]:
                # A retried write: answered, not run again, once the original is on disk (its
                # thread may still be waiting for the fsync).
                reply = dict(previous[1])
                ticket = self.store.appended() if self.store is not None else 0
            elif previous is not None and session is not None and session[1] < previous[0]:
                # A late copy of an earlier write on this session: never applied again.
                reply = error_reply(
                    225,
                    f"Cannot start transaction {session[1]} on session because a newer "
                    f"transaction {previous[0]} has already started",
                )
            else:
                reply = self._run(spec, call)
                changes = self.journal.take_pending()
                kept = None
                if session is not None and reply.get("ok", 1.0) == 1:
                    kept = {"id": session[0], "n": session[1], "r": reply}
                    self._keep_session(session[0], session[1], reply)
                record = self._record(call, spec, reply, changes, kept)
                if record is not None and self.store is not None:
                    ticket = self.store.append(record)
                if changes:
                    visible = changes[-1].seq
        if ticket:
            self.store.wait(ticket)  # type: ignore[union-attr]
        if visible:
            self.journal.make_visible(visible)
        return reply

    def _keep_session(self, key: bytes, txn: int, reply: dict[str, Any]) -> None:
        self.sessions.pop(key, None)
        self.sessions[key] = (txn, reply)
        if len(self.sessions) > MAX_SESSIONS:
            self.sessions.pop(next(iter(self.sessions)))

    # --- journal records -----------------------------------------------------------------------

    def _record(
        self,
        call: Call,
        spec: Spec,
        reply: dict[str, Any],
        changes: list[Any],
        session: dict[str, Any] | None,
    ) -> dict[str, Any] | None:
        if spec.logical and reply.get("ok", 1.0) == 1:
            command = {k: v for k, v in call.command.items() if k not in _GENERIC}
            ops = [{"o": "cmd", "db": call.db, "cmd": command}]
        else:
            ops = list(self._physical(changes))
        if not ops and not changes and session is None:
            return None
        record: dict[str, Any] = {"ops": ops, "ch": [encode_change(c) for c in changes]}
        if session is not None:
            record["ss"] = session
        return record

    def _physical(self, changes: Iterable[Any]) -> Iterable[dict[str, Any]]:
        databases = self.client._store._databases
        for change in changes:
            if change.op in _DOCUMENT_OPS:
                db_store = databases.get(change.db)
                store = db_store._collections.get(change.coll) if db_store else None
                key = change.key
                hashed = helpers.hashdict(key) if isinstance(key, dict) else key
                document = store._documents.get(hashed) if store is not None else None
                if document is None:
                    yield {"o": "del", "db": change.db, "c": change.coll, "k": [key]}
                else:
                    yield {"o": "set", "db": change.db, "c": change.coll, "d": document}
            elif change.op == change_events.DROP:
                yield {"o": "drop", "db": change.db, "c": change.coll}

    def apply(self, record: dict[str, Any]) -> None:
        """Re-apply a journal record on recovery."""
        server = self.client._store
        self.journal.replaying = True
        try:
            for op in record.get("ops", []):
                kind = op["o"]
                if kind == "set":
                    document = op["d"]
                    server[op["db"]][op["c"]]._documents[_key(document["_id"])] = document
                elif kind == "del":
                    server[op["db"]][op["c"]]._documents.pop(_key(op["k"][0]), None)
                elif kind == "drop":
                    self.client.get_database(op["db"]).drop_collection(op["c"])
                elif kind == "cmd":
                    self._replay_command(op["db"], op["cmd"])
        finally:
            self.journal.replaying = False
        for change in record.get("ch", []):
            self.journal.append_recovered(decode_change(change))
        session = record.get("ss")
        if session is not None:
            self._keep_session(session["id"], session["n"], session["r"])

    def _replay_command(self, database: str, command: dict[str, Any]) -> None:
        name = next(iter(command))
        spec = self.commands[name]
        reply = self._run(spec, Call(self, Connection(0, "recovery"), database, command, name))
        if reply.get("ok", 1.0) != 1:
            log.warning("replaying %s on %s: %s", name, database, reply.get("errmsg"))

    # --- snapshots -----------------------------------------------------------------------------

    def snapshot(self) -> list[bytes]:
        """The whole state as framed records (call with the lock held). The change history
        kept is the newest that fits in history_bytes; older changes are forgotten."""
        kept: list[bytes] = []
        size = 0
        first_kept = None
        for change in reversed(self.journal.changes()):
            data = frame({"t": "change", "c": encode_change(change)})
            if size + len(data) > self.history_bytes:
                break
            kept.append(data)
            size += len(data)
            first_kept = change.seq
        if first_kept is not None:
            self.journal.forget_before(first_kept)
        elif self.journal.changes():
            self.journal.forget_before(self.journal.changes()[-1].seq + 1)
        sessions = [{"id": k, "n": n, "r": r} for k, (n, r) in self.sessions.items()]
        records = [frame({"t": "meta", "journal": self.journal.state(), "sessions": sessions})]
        for db_name, db_store in self.client._store._databases.items():
            for name, store in db_store._collections.items():
                if not (store.is_created or store.options):
                    continue
                entry = {
                    "t": "coll",
                    "db": db_name,
                    "name": name,
                    "options": store.options,
                    "indexes": [[index, spec] for index, spec in store.indexes.items()],
                    "forced": bool(store._is_force_created),
                }
                records.append(frame(entry))
                records.extend(frame({"t": "doc", "d": doc}) for doc in store._documents.values())
        records.extend(reversed(kept))
        return records

    def load_snapshot(self, records: Iterable[dict[str, Any]]) -> None:
        server = self.client._store
        store = None
        meta: dict[str, Any] = {}
        changes = []
        for record in records:
            kind = record.get("t")
            if kind == "meta":
                meta = record
            elif kind == "coll":
                store = server[record["db"]][record["name"]]
                store.options = record["options"]
                store.indexes = {name: _index_spec(spec) for name, spec in record["indexes"]}
                store._ttl_indexes = {
                    name: spec
                    for name, spec in store.indexes.items()
                    if spec.get("expireAfterSeconds") is not None
                }
                store._is_force_created = record["forced"]
            elif kind == "doc" and store is not None:
                document = record["d"]
                store._documents[_key(document["_id"])] = document
            elif kind == "change":
                changes.append(decode_change(record["c"]))
        if meta:
            self.journal.restore(meta["journal"], changes)
            for session in meta.get("sessions", []):
                self._keep_session(session["id"], session["n"], session["r"])

    def close(self) -> None:
        self.cursors.close_all()


def _asks_collation(command: dict[str, Any]) -> bool:
    if command.get("collation"):
        return True
    for key in ("updates", "deletes"):
        statements = command.get(key)
        if isinstance(statements, list) and any(
            isinstance(s, dict) and s.get("collation") for s in statements
        ):
            return True
    return False


def _key(value: Any) -> Any:
    return helpers.hashdict(value) if isinstance(value, dict) else value


def _index_spec(spec: dict[str, Any]) -> dict[str, Any]:
    spec = dict(spec)
    spec["key"] = [tuple(pair) for pair in spec.get("key", [])]
    return spec


def _session_key(command: dict[str, Any]) -> tuple[bytes, int] | None:
    lsid, txn = command.get("lsid"), command.get("txnNumber")
    if not isinstance(lsid, dict) or txn is None:
        return None
    ident = lsid.get("id")
    raw = getattr(ident, "bytes", None) or (bytes(ident) if isinstance(ident, bytes) else None)
    if raw is None:
        return None
    return raw, int(txn)
