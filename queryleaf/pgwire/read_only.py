"""--read-only for the PostgreSQL front end: the rule the shell applies too
(queryleaf.compile.write_kind), with this front end's reading of the first keyword."""

from __future__ import annotations

from typing import Any

from queryleaf.compile import READ_KEYWORDS, compile_statement
from queryleaf.compile import write_kind as plan_write_kind
from queryleaf.errors import QueryLeafError
from queryleaf.pgwire.sqltext import leading_words


def write_kind(text: str, dialect: str, params: Any) -> str | None:
    """The verb of a statement that changes data, None for a read."""
    words = leading_words(text, 1)
    keyword = words[0] if words else ""
    plan = None
    if keyword in READ_KEYWORDS and keyword != "EXPLAIN":
        try:
            plan = compile_statement(text, dialect, params)
        except QueryLeafError:
            return None  # it fails on its own, before touching anything
    return plan_write_kind(keyword, plan)


def refuse_write(text: str, dialect: str, params: Any) -> None:
    verb = write_kind(text, dialect, params)
    if verb is not None:
        raise QueryLeafError(
            f"read-only mode: {verb} statements are refused",
            offset=0,
            hint="the server runs with --read-only: only queries and EXPLAIN run",
            code="QL701",
        )
