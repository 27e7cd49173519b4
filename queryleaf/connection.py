"""Connections: a pymongo-compatible Database plus the SQL entry points."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from queryleaf.compile import compile_statement
from queryleaf.errors import QueryLeafError, SemanticError
from queryleaf.execute import run_guarded, run_plan
from queryleaf.parse import split_statements
from queryleaf.result import Result

Params = Mapping[str, Any] | Sequence[Any] | None


class Connection:
    """SQL over one MongoDB database.

    >>> import queryleaf
    >>> with queryleaf.connect() as conn:
    ...     conn.run_sql("INSERT INTO users (name, age) VALUES ('ada', 36), ('alan', 41)").rowcount
    ...     conn.run_sql("SELECT name FROM users WHERE age > 40").rows
    2
    [{'name': 'alan'}]
    """

    def __init__(
        self,
        db: Any,
        *,
        client: Any = None,
        backend: str = "mongodb",
        owns_client: bool = False,
        dialect: str = "mysql",
    ) -> None:
        self.db = db
        self.client = client if client is not None else getattr(db, "client", None)
        self.backend = backend
        self.dialect = dialect
        self._owns_client = owns_client
        self.handlers: dict[str, Any] = {}  # deliver_to = 'handler:NAME' targets
        self._runtime: Any = None
        # Set by --read-only: nothing this connection does writes, its own bookkeeping
        # included (a live query's ACTIVE_CHANGE_STREAMS() row stays in memory).
        self.read_only = False
        # Where deliver_to = 'log:FILE' files go (None: QUERYLEAF_LOG_DIR or ./queryleaf-logs).
        self.log_dir: str | None = None

    def run_sql(self, sql: str, params: Params = None, *, timeout: float | None = None) -> Result:
        """Run every statement in `sql` and return the last one's Result. A live query
        (EMIT CHANGES) returns once LIMIT rows arrived or `timeout` seconds passed."""
        last = Result()
        for result in self.execute_script(sql, params):
            if result.live is not None:
                plan = result.plan
                if getattr(plan, "limit", None) is None and timeout is None:
                    raise SemanticError(
                        "a live query run with run_sql needs LIMIT n or a timeout",
                        hint="add LIMIT, pass timeout=..., or iterate conn.stream_sql(sql)",
                        code="QL331",
                    )
                result.rows = list(result.live(timeout))
                result.rowcount = len(result.rows)
            last = result
        return last

    def stream_sql(
        self, sql: str, params: Params = None, *, timeout: float | None = None
    ) -> Iterator[dict[str, Any]]:
        """Rows of a live query (`... EMIT CHANGES`) as events happen, until LIMIT rows,
        the timeout, or the caller stops iterating."""
        results = list(self.execute_script(sql, params))
        if not results or results[-1].live is None:
            raise SemanticError(
                "stream_sql runs a live query: SELECT ... FROM CHANGE_STREAM_EVENTS(...) "
                "EMIT CHANGES",
                code="QL330",
            )
        return results[-1].live(timeout)

    def execute_script(
        self, sql: str, params: Params = None, source_name: str | None = None
    ) -> Iterator[Result]:
        """Run the statements of `sql` one by one, yielding each Result. The first error
        stops the script and is raised with its line, column and caret in `sql`."""
        statements = split_statements(sql, source_name=source_name)
        start: dict[str, Any] | None = None  # the next live query's start, once known
        for index, statement in enumerate(statements):
            try:
                if start is None:
                    start = self._live_start(statements[index:], params)
                plan = compile_statement(statement.text, self.dialect, params)
                result = self._run_plan(plan, start.get("token"))
            except QueryLeafError as error:
                error.locate(sql, statement.offset, source_name)
                raise
            if result.live is not None or getattr(plan, "action", None) == "drop_table":
                # The statements after a live query belong to the next one; a stream started
                # before a DROP TABLE would end at its invalidate: start after it instead.
                start = None
            self._control_runtime(plan, result)
            result.statement = statement.text
            yield result

    def explain(self, sql: str, params: Params = None) -> str:
        """The MongoDB commands the statements in `sql` would run, as Extended JSON."""
        texts = []
        for statement in split_statements(sql):
            try:
                plan = compile_statement(statement.text, self.dialect, params)
            except QueryLeafError as error:
                error.locate(sql, statement.offset)
                raise
            texts.append(plan.inner.to_json() if hasattr(plan, "inner") else plan.to_json())
        return "\n".join(texts)

    def _live_start(self, statements: Sequence[Any], params: Params) -> dict[str, Any]:
        """`{"token": ...}` when a live query follows the first of `statements`: its stream
        position now, before that statement runs, so that it sees what the statements
        before it write (see queryleaf.runtime.live_run). `{}` otherwise, and when the
        position cannot be taken: the live query then reports its own errors."""
        from pymongo.errors import ConnectionFailure, PyMongoError

        from queryleaf.subscriptions.live import EMIT

        if EMIT.search(statements[0].text):
            return {}  # a live query first: it opens its stream when it runs
        live = next((s for s in statements[1:] if EMIT.search(s.text)), None)
        if live is None:
            return {}
        try:
            plan = compile_statement(live.text, self.dialect, params)
            if getattr(plan, "kind", None) != "live":
                return {}
            from queryleaf.runtime.live_run import starting_token

            return {"token": starting_token(plan, self.db)}
        except ConnectionFailure as error:
            from queryleaf.engines.mongodb import unreachable_error

            raise unreachable_error(error) or error from None
        except (QueryLeafError, PyMongoError):
            return {}

    def _run_plan(self, plan: Any, start_after: dict[str, Any] | None = None) -> Result:
        """Live queries and subscription statements go to their rooms (queryleaf.runtime,
        queryleaf.subscriptions); every other plan to the executor."""
        kind = getattr(plan, "kind", None)
        if kind == "live":
            from queryleaf.runtime.live_run import live_rows

            db = self.db
            record = not self.read_only
            return Result(
                columns=[column.label for column in plan.columns],
                plan=plan,
                live=lambda timeout=None: live_rows(plan, db, timeout, start_after, record=record),
            )
        if kind == "subscription":
            replayed = self._run_replay(plan)
            if replayed is not None:
                return replayed
            from queryleaf.subscriptions.statements import run_subscription_plan

            return run_guarded(plan, lambda: run_subscription_plan(plan, self.db))
        return run_plan(plan, self.db)

    # --- the subscription runtime (queryleaf.runtime.runtime) -----------------------------------

    @property
    def runtime(self) -> Any:
        """The in-process subscription runtime, created on first use."""
        if self._runtime is None:
            from queryleaf.runtime.runtime import Runtime

            self._runtime = Runtime(self)
        return self._runtime

    def register_handler(self, name: str, handler: Any) -> None:
        """Make `handler` the target of subscriptions with deliver_to = 'handler:NAME'. It gets
        a change event (a list of them with batch_processing); raising fails the delivery."""
        self.handlers[name] = handler

    def start_subscription(self, name: str) -> bool:
        """Run the stored, active subscription `name` in this process."""
        return bool(self.runtime.start(name))

    def stop_subscription(self, name: str) -> bool:
        """Stop running `name` here, after its in-flight delivery."""
        return self._runtime is not None and bool(self._runtime.stop(name))

    def _run_replay(self, plan: Any) -> Result | None:
        """REPLAY DEAD_LETTER_EVENTS delivers through targets that may live in this process
        (Python handlers), so the connection runs it rather than the plain executor."""
        statement = getattr(plan, "statement", None)
        if getattr(statement, "action", None) != "REPLAY":
            return None
        from queryleaf.runtime.replay import replay

        return replay(self, statement, plan)

    def _control_runtime(self, plan: Any, result: Result) -> None:
        """START/RESUME run the subscription in this process; STOP/PAUSE/DROP stop it; CREATE
        starts it with auto_start = TRUE and otherwise says that it is not running."""
        if getattr(plan, "kind", None) != "subscription":
            return
        from queryleaf.parse.extensions import (
            ControlSubscription,
            CreateSubscription,
            DropSubscription,
        )

        statement = plan.statement
        if isinstance(statement, CreateSubscription) and result.rowcount == 1:
            result.notices.append(self._created(statement.name, statement.or_replace))
            return
        if isinstance(statement, DropSubscription):
            self.stop_subscription(statement.name)
            return
        if not isinstance(statement, ControlSubscription):
            return
        action = statement.action
        if action in ("START", "RESUME"):
            self.runtime.start(statement.name)
        else:
            self.stop_subscription(statement.name)

    def _created(self, name: str, replaced: bool) -> str:
        from queryleaf.system_collections import SUBSCRIPTIONS

        verb = "replaced" if replaced else "created"
        if self._runtime is not None and name in self._runtime.running():
            return f"{name}: {verb}; running in this process with the new definition"
        document = self.db[SUBSCRIPTIONS].find_one({"_id": name}, {"auto_start": 1}) or {}
        if document.get("auto_start") and self.runtime.start(name):
            return f"{name}: {verb} and started in this process (auto_start)"
        return f"{name}: {verb}, not started here (START EVENT_SUBSCRIPTION {name}, or run queryleaf worker)"

    def close(self) -> None:
        if self._runtime is not None:
            self._runtime.stop_all()
        if self._owns_client and self.client is not None:
            self.client.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(
    uri: str | None = None,
    database: str = "queryleaf",
    *,
    dialect: str = "mysql",
    connect_timeout: float | None = None,
) -> Connection:
    """Connect to MongoDB at `uri`, or to a fresh embedded engine when `uri` is None. A
    server that does not answer within `connect_timeout` seconds (default 2) fails the first
    statement with QL603 "cannot reach MongoDB at host:port: reason"."""
    from queryleaf.engines import open_database

    client, db, backend = open_database(uri, database, connect_timeout)
    return Connection(db, client=client, backend=backend, owns_client=True, dialect=dialect)


def run_sql(
    sql: str, db: Any = None, params: Params = None, *, database: str = "queryleaf"
) -> Result:
    """Run `sql` on `db`: a pymongo Database, a Connection, or a URI string."""
    if isinstance(db, Connection):
        return db.run_sql(sql, params)
    if db is None or isinstance(db, str):
        with connect(db, database) as conn:
            return conn.run_sql(sql, params)
    return Connection(db).run_sql(sql, params)
