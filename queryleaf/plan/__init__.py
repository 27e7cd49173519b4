"""AST to Plan."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlglot import exp

from queryleaf.errors import UnsupportedError
from queryleaf.plan.literals import Bindings
from queryleaf.plan.plans import ExplainPlan, Plan
from queryleaf.plan.queries import plan_query
from queryleaf.plan.writes import plan_delete, plan_insert, plan_update

__all__ = ["ExplainPlan", "Plan", "plan_statement"]


def plan_statement(
    tree: exp.Expression,
    params: Any = None,
    scan: bool = True,
    text: str = "",
    now: dt.datetime | None = None,
) -> Plan:
    """Plan one parsed statement. `scan=False` skips looking for placeholders, for callers
    that know the text has none. `now` binds NOW() & co. for queries and writes (once per
    execution, as MySQL does); DDL (views) keeps NOW() a server variable."""
    ddl = not isinstance(tree, exp.Select | exp.SetOperation | exp.Insert | exp.Update | exp.Delete)
    bindings = Bindings(tree, params, text, now=None if ddl else now, scan=scan)
    if isinstance(tree, exp.Select | exp.Union | exp.Intersect | exp.Except):
        # Only an INTO keyword makes an Into node: a text without one needs no search.
        into = tree.find(exp.Into) if not text or "INTO" in text.upper() else None
        if into is not None:  # SELECT ... INTO t would otherwise run as a plain SELECT
            raise UnsupportedError(
                "SELECT ... INTO is not supported",
                node=into,
                hint=f"write INSERT INTO {into.this.sql('mysql')} SELECT ...",
                code="QL201",
            )
        return plan_query(tree, bindings)
    if isinstance(tree, exp.Insert | exp.Update | exp.Delete):
        from queryleaf.plan.write_clauses import refuse_dropped_clauses

        refuse_dropped_clauses(tree)
    if isinstance(tree, exp.Insert):
        return plan_insert(tree, bindings)
    if isinstance(tree, exp.Update):
        return plan_update(tree, bindings)
    if isinstance(tree, exp.Delete):
        return plan_delete(tree, bindings)
    from queryleaf.plan.ddl import DDL_NODES, plan_ddl

    if isinstance(tree, DDL_NODES):
        return plan_ddl(tree, bindings)
    if isinstance(tree, exp.TruncateTable):
        from queryleaf.plan.truncate import plan_truncate

        return plan_truncate(tree)
    kind = tree.key.upper() if hasattr(tree, "key") else type(tree).__name__
    raise UnsupportedError(
        f"{kind} statements are not supported",
        node=tree,
        hint="queryleaf runs queries (SELECT, WITH, UNION ...), INSERT, UPDATE, DELETE, "
        "TRUNCATE TABLE, CREATE/DROP TABLE, VIEW and INDEX, SHOW, DESCRIBE, EXPLAIN and the "
        "EVENT_SUBSCRIPTION statements (docs/sql.md)",
        code="QL207",
    )
