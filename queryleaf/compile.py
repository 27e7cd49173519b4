"""One statement's text to a Plan, with a plan cache. Plans are inert data, so a cached plan
is safe to run again; a plan whose parameters or NOW() land in it is cached as a template
(plan/templates.py) keyed on the text and the parameters' shape, and filled at each
execution, so one plan serves every execution of a parameterized statement."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from functools import lru_cache
from typing import Any

from sqlglot import exp

from queryleaf.errors import ParseError, QueryLeafError, node_offset
from queryleaf.parse import parse_sql
from queryleaf.parse.extensions import is_extension, parse_extension
from queryleaf.parse.limits import check_text
from queryleaf.plan import ExplainPlan, Plan, plan_statement
from queryleaf.plan.markers import Unshaped, params_shape
from queryleaf.plan.plan_cache import NOT_TEMPLATE, PLANS, SEEN
from queryleaf.plan.scalar_steps import StepsPlan, plan_in_steps
from queryleaf.plan.templates import NotTemplate, Template, derive, flat_values
from queryleaf.subscriptions.live import find_emit_changes

EXPLAIN = re.compile(r"^\s*EXPLAIN\b\s*", re.IGNORECASE)


def compile_statement(text: str, dialect: str = "mysql", params: Any = None) -> Any:
    check_text(text)  # length and nesting depth, before any parser sees the text
    try:
        return _compile(text, dialect, params)
    except RecursionError:
        # The limits keep statements well inside the stack; this is the last line.
        raise ParseError(
            "the statement nests too deeply to plan",
            offset=0,
            hint="flatten it, or lower max_nesting_depth (queryleaf.set_limits)",
            code="QL104",
        ) from None


def _compile(text: str, dialect: str, params: Any) -> Any:
    extension, emit, explain = _classify(text)
    if extension:
        return _plan_extension(text)
    if emit is not None:
        return _plan_live(text, emit, dialect, params)
    if explain:
        inner_text = text[explain.end() :]
        try:
            return ExplainPlan(_plan(inner_text, dialect, params))
        except QueryLeafError as error:
            _shift(error, explain.end())
            raise
    return _plan(text, dialect, params)


@lru_cache(maxsize=1024)
def _classify(text: str) -> tuple[bool, tuple[int, int] | None, Any]:
    """(an extension statement?, where EMIT CHANGES is, the EXPLAIN prefix match)."""
    if is_extension(text):
        return True, None, None
    return False, find_emit_changes(text), EXPLAIN.match(text)


def _plan(text: str, dialect: str, params: Any) -> Plan:
    try:
        key = (text, dialect, params_shape(params))
    except Unshaped:
        return _cold(text, dialect, params, statement_now())
    entry = PLANS.get(key)
    if isinstance(entry, _SeenPlan):
        # A statement without parameters comes back: its first plan is the template's
        # reference (no third planning), and the plan itself when nothing lands in it.
        template = _template(text, dialect, None, entry.plan, entry.now)
        PLANS.put(key, template)
        if isinstance(template, Template):
            return template.fill((), statement_now() if template.uses_now else None)
        entry = NOT_TEMPLATE
    if entry is None or entry is SEEN:
        now = statement_now()
        plan = _cold(text, dialect, params, now)
        if isinstance(plan, StepsPlan):
            PLANS.put(key, NOT_TEMPLATE)  # its steps' values are planned in at execution
        elif entry is None:
            # A template (two more plannings) is made when the text and shape come back: a
            # script's one-off statements cost one planning each.
            PLANS.put(key, SEEN if params is not None else _SeenPlan(plan, now))
        else:
            PLANS.put(key, _template(text, dialect, params, plan, now))
        return plan
    if isinstance(entry, Template):
        return entry.fill(flat_values(params), statement_now() if entry.uses_now else None)
    return _cold(text, dialect, params, statement_now())


@dataclasses.dataclass(frozen=True)
class _SeenPlan:
    """A statement without parameters planned once, and the NOW() it was planned with."""

    plan: Plan
    now: dt.datetime


def _cold(text: str, dialect: str, params: Any, now: dt.datetime) -> Plan:
    # Without parameters, a text with no '?' or ':' has no placeholders to look for.
    scan = params is not None or "?" in text or ":" in text
    tree = parse_sql(text, dialect)
    if isinstance(tree, exp.Select) and tree.args.get("where") and "SELECT" in text[7:].upper():
        steps = plan_in_steps(tree, params, now, plan_statement)
        if steps is not None:
            return steps
    return plan_statement(tree, params, scan=scan, text=text, now=now)


def _template(text: str, dialect: str, params: Any, plan: Plan, now: dt.datetime) -> Any:
    """The plan as a template for every execution of this shape, or NOT_TEMPLATE."""
    tree = parse_sql(text, dialect)
    scan = params is not None or "?" in text or ":" in text

    def plan_with(values: Any, moment: Any) -> Plan:
        return plan_statement(tree, values, scan=scan, text=text, now=moment)

    try:
        return derive(plan_with, params, plan, now)
    except NotTemplate:
        return NOT_TEMPLATE


def statement_now() -> dt.datetime:
    """NOW() for one execution: UTC, at BSON's millisecond precision."""
    now = dt.datetime.now(dt.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


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
