"""--read-only for the PostgreSQL front end: the shell's rule (queryleaf/shell/safety.py), which
the server cannot import from the room above it. The first keyword decides; a read keyword
whose plan writes (an aggregate ending in $merge or $out) is a write too; unknown keywords
count as writes, so a new statement kind is refused until it is known to be harmless."""

from __future__ import annotations

from typing import Any

from queryleaf.compile import compile_statement
from queryleaf.errors import QueryLeafError
from queryleaf.pgwire.sqltext import leading_words

READ_KEYWORDS = {"SELECT", "WITH", "EXPLAIN", "SHOW", "DESCRIBE", "DESC", "VALUES", "TABLE"}
READ_PLAN_KINDS = {"find", "aggregate", "explain", "count", "distinct", "live", "watch"}
WRITE_STAGES = {"$out", "$merge"}


def write_kind(text: str, dialect: str, params: Any) -> str | None:
    """The verb of a statement that changes data, None for a read."""
    words = leading_words(text, 1)
    keyword = words[0] if words else ""
    if keyword not in READ_KEYWORDS:
        return keyword or "statement"
    if keyword == "EXPLAIN":
        return None
    try:
        plan = compile_statement(text, dialect, params)
    except QueryLeafError:
        return None  # it fails on its own, before touching anything
    kind = getattr(plan, "kind", "")
    if kind == "subscription" and keyword == "SHOW":
        return None  # SHOW EVENT_SUBSCRIPTIONS only reads
    if kind not in READ_PLAN_KINDS:
        return str(kind).upper()
    for stage in getattr(plan, "command", {}).get("pipeline") or []:
        for name in stage:
            if name in WRITE_STAGES:
                return f"SELECT with {name}"
    return None


def refuse_write(text: str, dialect: str, params: Any) -> None:
    verb = write_kind(text, dialect, params)
    if verb is not None:
        raise QueryLeafError(
            f"read-only mode: {verb} statements are refused",
            offset=0,
            hint="the server runs with --read-only: only queries and EXPLAIN run",
            code="QL701",
        )
