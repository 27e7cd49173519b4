"""TRUNCATE [TABLE] name: delete every document of one collection, keeping the collection, its
indexes and its validator (MongoDB's `delete` with an empty filter). The shell asks before it
runs (docs/shell.md, Safety); --read-only refuses it."""

from __future__ import annotations

from sqlglot import exp

from queryleaf.errors import SemanticError, UnsupportedError
from queryleaf.plan.plans import Plan


def plan_truncate(tree: exp.TruncateTable) -> Plan:
    tables = tree.expressions
    if tree.args.get("is_database"):
        raise UnsupportedError("TRUNCATE DATABASE is not supported", node=tree, code="QL207")
    if len(tables) != 1:
        raise UnsupportedError(
            "TRUNCATE takes one table at a time",
            node=tables[1] if len(tables) > 1 else tree,
            hint="write one TRUNCATE TABLE statement per collection",
            code="QL206",
        )
    (table,) = tables
    if not isinstance(table, exp.Table) or table.args.get("db") or not table.name:
        raise SemanticError(
            "TRUNCATE needs a collection name",
            node=table,
            hint="TRUNCATE TABLE orders",
            code="QL345",
        )
    return Plan({"delete": table.name, "deletes": [{"q": {}, "limit": 0}]})
