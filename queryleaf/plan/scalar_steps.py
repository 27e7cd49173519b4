"""Uncorrelated scalar subqueries compared with a column in WHERE run first, as a step of
their own, and their value is bound into the outer filter as a parameter.

`WHERE x = (SELECT MAX(x) FROM t)` in one pipeline is a `$lookup` and an `$expr` that no
index can serve; run as two steps it is `{x: <value>}`. A subquery is uncorrelated when it
plans on its own (a reference to the outer query does not resolve there). The statement's
NOW() is the same in both steps. Statements with positional `?` parameters keep the single
pipeline (the subquery's value is bound by name). A step fetches at most two rows; two are
an error (QL502, MySQL's 1242), never its first row (plan/scalar_rows.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from bson import json_util
from sqlglot import exp

from queryleaf.errors import QueryLeafError
from queryleaf.plan.expressions import COMPARISONS
from queryleaf.plan.paths import reference_parts
from queryleaf.plan.plans import EXTENDED_JSON, Plan
from queryleaf.plan.scalar_rows import bounded
from queryleaf.plan.scope import split_conjuncts

STEP_PREFIX = "__ql_step"
SHOWN_VALUE = "<the value of step {number}>"


@dataclass
class StepsPlan(Plan):
    """The outer statement's plan (`command`, as EXPLAIN shows it, with a stand-in for each
    step's value), the steps to run first, and what the executor needs to plan the outer
    statement with their values."""

    steps: list[tuple[str, Plan]] = field(default_factory=list)
    outer: Any = None
    params: Any = None
    now: dt.datetime | None = None

    def to_json(self, indent: int | None = 2) -> str:
        commands = [plan.command for _, plan in self.steps] + [self.command]
        return json_util.dumps(commands, json_options=EXTENDED_JSON, indent=indent)


def plan_in_steps(
    tree: exp.Expression, params: Any, now: dt.datetime | None, plan_statement: Any
) -> StepsPlan | None:
    """The statement as steps, or None when no subquery qualifies."""
    if not isinstance(tree, exp.Select) or not (params is None or isinstance(params, dict)):
        return None
    where = tree.args.get("where")
    if where is None:
        return None
    found = [
        side
        for conjunct in split_conjuncts(where.this)
        if type(conjunct) in COMPARISONS
        for side, other in ((conjunct.this, conjunct.expression), (conjunct.expression, conjunct.this))
        if isinstance(side, exp.Subquery) and reference_parts(other) is not None
    ]  # fmt: skip
    steps: list[tuple[str, Plan, exp.Subquery]] = []
    outer_names = _relation_names(tree, stop_at=found)
    for number, subquery in enumerate(found, start=1):
        if _correlated(subquery, outer_names):
            continue
        try:
            step = plan_statement(subquery.this, params, text="", now=now)
        except QueryLeafError:
            continue  # correlated (or not a query of its own): it stays in the pipeline
        if step.columns is None or len(step.columns) != 1:
            continue
        step = replace(step, command=bounded(step.command))
        steps.append((f"{STEP_PREFIX}{number}", step, subquery))
    if not steps:
        return None
    outer = tree.copy()
    originals = list(tree.find_all(exp.Subquery))
    copies = list(outer.find_all(exp.Subquery))
    for name, _, subquery in steps:
        position = next(i for i, node in enumerate(originals) if node is subquery)
        copies[position].replace(exp.Placeholder(this=name))
    shown = dict(params or {})
    for number, (name, _, _) in enumerate(steps, start=1):
        shown[name] = SHOWN_VALUE.format(number=number)
    outer_plan = plan_statement(outer, shown, text="", now=now)
    why = ", ".join(subquery.sql("mysql") for _, _, subquery in steps)
    note = (
        f"runs in {len(steps) + 1} steps: the uncorrelated subquer"
        f"{'ies' if len(steps) > 1 else 'y'} {why} run{'' if len(steps) > 1 else 's'} first "
        "and the outer filter compares with the value as a constant, where an index can "
        "serve it (the commands are listed in order; the last shows a stand-in for the values)"
    )
    return StepsPlan(
        outer_plan.command,
        columns=outer_plan.columns,
        notes=[*outer_plan.notes, note],
        steps=[(name, step) for name, step, _ in steps],
        outer=outer,
        params=params,
        now=now,
    )


def _relation_names(tree: exp.Expression, stop_at: list[exp.Subquery]) -> set[str]:
    """Names and aliases of the outer query's relations (not those inside subqueries)."""
    names: set[str] = set()
    for table in tree.find_all(exp.Table):
        if any(_inside(table, subquery) for subquery in stop_at):
            continue
        names.add(table.name)
        if table.alias:
            names.add(table.alias)
    for alias in tree.find_all(exp.TableAlias):  # derived tables and CTEs too
        if alias.name and not any(_inside(alias, subquery) for subquery in stop_at):
            names.add(alias.name)
    return names


def _correlated(subquery: exp.Subquery, outer_names: set[str]) -> bool:
    """Whether the subquery names a relation of the outer query that it does not define."""
    inner: set[str] = set()
    for table in subquery.find_all(exp.Table):
        # An aliased table is known only by its alias there: `FROM t t2 WHERE t2.k = t.k`
        # names the outer t.
        inner.add(table.alias or table.name)
    for alias in subquery.find_all(exp.TableAlias):
        inner.add(alias.name)
    for column in subquery.find_all(exp.Column):
        parts = reference_parts(column)
        head = parts[0] if parts else column.table
        if isinstance(head, str) and head in outer_names and head not in inner:
            return True
        if column.table and column.table in outer_names and column.table not in inner:
            return True
    return False


def _inside(node: exp.Expression, ancestor: exp.Expression) -> bool:
    parent = node.parent
    while parent is not None:
        if parent is ancestor:
            return True
        parent = parent.parent
    return False
