"""One statement's text to a Plan, with a cache keyed on the text for statements without
parameters (plans are inert data, so a cached plan is safe to run again)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from queryleaf.errors import QueryLeafError, node_offset
from queryleaf.parse import parse_sql
from queryleaf.parse.extensions import is_extension, parse_extension
from queryleaf.plan import ExplainPlan, Plan, plan_statement
from queryleaf.subscriptions.live import find_emit_changes

EXPLAIN = re.compile(r"^\s*EXPLAIN\b\s*", re.IGNORECASE)


def compile_statement(text: str, dialect: str = "mysql", params: Any = None) -> Any:
    if is_extension(text):
        return _plan_extension(text)
    emit = find_emit_changes(text)
    if emit is not None:
        return _plan_live(text, emit, dialect, params)
    explain = EXPLAIN.match(text)
    if explain:
        inner_text = text[explain.end() :]
        try:
            return ExplainPlan(_plan(inner_text, dialect, params))
        except QueryLeafError as error:
            _shift(error, explain.end())
            raise
    return _plan(text, dialect, params)


def _plan(text: str, dialect: str, params: Any) -> Plan:
    if params is None and "?" not in text and ":" not in text:
        return _cached_plan(text, dialect)
    return plan_statement(parse_sql(text, dialect), params, text=text)


@lru_cache(maxsize=512)
def _cached_plan(text: str, dialect: str) -> Plan:
    # The text has no '?' or ':', so it has no placeholders to look for.
    return plan_statement(parse_sql(text, dialect), None, scan=False)


def _shift(error: QueryLeafError, amount: int) -> None:
    """Errors inside EXPLAIN's statement point into the full text."""
    offset = error.offset
    if offset is None and error.node is not None:
        offset = node_offset(error.node)
    error.offset = (offset or 0) + amount
    error.node = None


@lru_cache(maxsize=256)
def _plan_extension(text: str) -> Any:
    from queryleaf.subscriptions.statements import plan_extension

    return plan_extension(parse_extension(text), text)


def _plan_live(text: str, emit: tuple[int, int], dialect: str, params: Any) -> Any:
    """EMIT CHANGES is blanked out (offsets stay true) and the rest is SQL."""
    from sqlglot import exp

    from queryleaf.errors import SemanticError
    from queryleaf.plan.literals import Bindings
    from queryleaf.subscriptions.live import plan_live

    start, end = emit
    blanked = text[:start] + " " * (end - start) + text[end:]
    explain = EXPLAIN.match(blanked)
    body_start = explain.end() if explain else 0
    try:
        tree = parse_sql(blanked[body_start:], dialect)
        if not isinstance(tree, exp.Select):
            raise SemanticError(
                "EMIT CHANGES ends a SELECT", offset=start - body_start, code="QL330"
            )
        plan = plan_live(tree, Bindings(tree, params, blanked))
    except QueryLeafError as error:
        _shift(error, body_start)
        raise
    return ExplainPlan(plan) if explain else plan  # type: ignore[arg-type]


# --- read-only mode: the rule the shell and the PostgreSQL server share ---------------------

READ_KEYWORDS = {"SELECT", "WITH", "EXPLAIN", "SHOW", "DESCRIBE", "DESC", "VALUES", "TABLE"}
READ_PLAN_KINDS = {
    "find",
    "aggregate",
    "explain",
    "count",
    "distinct",
    "live",
    "watch",
    "listCollections",  # SHOW TABLES
    "listIndexes",  # SHOW INDEXES
}
WRITE_STAGES = {"$out", "$merge"}


def write_kind(keyword: str, plan: Any = None) -> str | None:
    """The verb of a statement that changes data (INSERT, DROP, ...), None for a read, from
    its first keyword (upper case) and its plan (None when it was not compiled). The keyword
    decides, except that a read keyword whose plan writes (an aggregate ending in $merge or
    $out) is a write too; unknown keywords count as writes, so a new statement kind is
    refused until it is known to be harmless."""
    if keyword not in READ_KEYWORDS:
        return keyword or "statement"
    if plan is None or keyword == "EXPLAIN":
        return None
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
