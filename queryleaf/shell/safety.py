"""Guards run before each statement: read-only mode and confirmation of destructive ones.

`steps()` walks a script in lock-step with `Connection.execute_script`, which is lazy: the
guard sees statement N before the generator compiles and runs it, and the statements
before it have already run, exactly as without a guard. Errors therefore keep the
positions `execute_script` gives them, and a refused statement gets one in the same
script coordinates."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from queryleaf.compile import READ_KEYWORDS, compile_statement
from queryleaf.compile import write_kind as plan_write_kind
from queryleaf.errors import QueryLeafError
from queryleaf.parse import Statement, split_statements
from queryleaf.result import Result
from queryleaf.shell.sqltext import first_keyword


class ReadOnlyError(QueryLeafError):
    """A write refused because queryleaf runs read-only (--read-only)."""

    code = "QL701"


def steps(
    conn: Any, text: str, params: Any = None, source_name: str | None = None
) -> Iterator[tuple[Statement, Callable[[], Result]]]:
    """(statement, run) for each statement of `text`; call `run` to execute it (in order)
    before asking for the next step."""
    statements = split_statements(text, source_name=source_name)
    results = conn.execute_script(text, params, source_name=source_name)
    for statement in statements:
        yield statement, lambda: next(results)


def run_script(
    conn: Any,
    text: str,
    params: Any = None,
    source_name: str | None = None,
    *,
    read_only: bool = False,
) -> Iterator[Result]:
    """Connection.execute_script, refusing writes when `read_only` (for batch mode)."""
    for statement, run in steps(conn, text, params, source_name):
        if read_only:
            refuse_write(conn, statement, text, params, source_name)
        yield run()


def try_plan(conn: Any, statement: Statement, params: Any) -> Any:
    """The statement's plan, or None when it does not compile (it then fails on its own,
    before touching any data, with the error execute_script reports)."""
    try:
        return compile_statement(statement.text, getattr(conn, "dialect", "mysql"), params)
    except Exception:  # QueryLeafError, or a planner bug: either way running it reports it
        return None


def write_kind(statement: str, plan: Any = None) -> str | None:
    """The verb of a statement that changes data (INSERT, DROP, ...), None for a read: the
    rule of queryleaf.compile.write_kind, which the PostgreSQL server applies too."""
    return plan_write_kind(first_keyword(statement), plan)


def refuse_write(
    conn: Any, statement: Statement, text: str, params: Any, source_name: str | None
) -> None:
    keyword = first_keyword(statement.text)
    plan = try_plan(conn, statement, params) if keyword in READ_KEYWORDS else None
    verb = write_kind(statement.text, plan)
    if verb is None:
        return
    error = ReadOnlyError(
        f"read-only mode: {verb} statements are refused",
        offset=0,
        hint="queryleaf runs with --read-only (or read_only = on in the shell's config): "
        "only queries and EXPLAIN run",
    )
    error.locate(text, statement.offset, source_name)
    raise error


def destructive_reason(conn: Any, statement: Statement, params: Any, kinds: Any) -> str | None:
    """Why the statement needs confirmation, or None. `kinds` is the config's list:
    delete/update count only when they change every document of a non-empty collection
    (no WHERE, or a WHERE that every document matches: the shell counts first; LIMIT 1
    never); other kinds (drop, truncate, ...) always count, except a statement on a
    subscription that does not exist, which fails on its own. A statement that does not
    compile needs no confirmation: it fails before it touches anything."""
    keyword = first_keyword(statement.text).lower()
    if keyword not in kinds:
        return None
    plan = try_plan(conn, statement, params)
    if plan is None or getattr(plan, "kind", "") == "explain":
        return None
    command = getattr(plan, "command", {})
    if keyword in ("delete", "update"):
        return _every_document(conn, keyword, command)
    if getattr(plan, "kind", "") == "subscription" and not _subscription_exists(conn, plan):
        return None  # QL322 "does not exist" (or IF EXISTS: nothing to do) comes next
    return f"{keyword.upper()} cannot be undone."


def _every_document(conn: Any, keyword: str, command: dict[str, Any]) -> str | None:
    collection = command.get(keyword)
    entries = command.get("deletes" if keyword == "delete" else "updates", [])
    for entry in entries:
        everywhere = entry.get("limit", 0) == 0 if keyword == "delete" else entry.get("multi")
        if not everywhere:
            continue
        query = entry.get("q") or {}
        verb = "deletes" if keyword == "delete" else "changes"
        if not query:
            return f"{keyword.upper()} without WHERE {verb} every document in {collection}."
        total, matched = _counts(conn, collection, query)
        if total and matched >= total:
            return (
                f"{keyword.upper()} {verb} every document in {collection}: all {total} match "
                "its WHERE."
            )
    return None


def _counts(conn: Any, collection: str, query: dict[str, Any]) -> tuple[int, int]:
    """(documents in the collection, documents the filter matches); (0, 0) when MongoDB
    cannot count them (the statement then reports its own error)."""
    from pymongo.errors import PyMongoError

    target = conn.db[collection]
    try:
        total = target.estimated_document_count()
        if not total:
            return 0, 0
        return total, target.count_documents(query, limit=total)
    except PyMongoError:
        return 0, 0


def _subscription_exists(conn: Any, plan: Any) -> bool:
    from queryleaf.system_collections import SUBSCRIPTIONS

    name = getattr(getattr(plan, "statement", None), "name", None)
    if not isinstance(name, str):
        return True
    return conn.db[SUBSCRIPTIONS].count_documents({"_id": name}, limit=1) > 0
