"""One statement's text to a Plan, with a cache keyed on the text for statements without
parameters (plans are inert data, so a cached plan is safe to run again)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from queryleaf.errors import QueryLeafError, node_offset
from queryleaf.parse import parse_sql
from queryleaf.plan import ExplainPlan, Plan, plan_statement

EXPLAIN = re.compile(r"^\s*EXPLAIN\b\s*", re.IGNORECASE)


def compile_statement(text: str, dialect: str = "mysql", params: Any = None) -> Plan | ExplainPlan:
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
    return plan_statement(parse_sql(text, dialect), params)


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
