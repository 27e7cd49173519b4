"""DDL and catalog statements: CREATE/DROP TABLE, VIEW and INDEX, SHOW TABLES, SHOW INDEXES,
DESCRIBE.

Each statement becomes a `DDLPlan`: inert data whose `command` is the MongoDB command the
statement runs (`create`, `drop`, `createIndexes`, `dropIndexes`, `listCollections`,
`listIndexes`, or the `aggregate` that DESCRIBE samples with). What depends on the database's
state at run time (IF [NOT] EXISTS, OR REPLACE) is decided by `queryleaf.execute.ddl`, and the
plan's notes say so.
"""

from __future__ import annotations

from sqlglot import exp

from queryleaf.errors import SemanticError
from queryleaf.plan.ddl_plan import (  # noqa: F401  (re-exported for the executor)
    NO_DOCUMENTS_COLLECTION,
    DDLPlan,
    object_name,
    unsupported,
)
from queryleaf.plan.literals import Bindings

DDL_NODES = (exp.Create, exp.Drop, exp.Show, exp.Describe, exp.Command)


def plan_ddl(tree: exp.Expression, bindings: Bindings | None) -> DDLPlan:
    if isinstance(tree, exp.Create):
        return _plan_create(tree, bindings)
    if isinstance(tree, exp.Drop):
        return _plan_drop(tree)
    from queryleaf.plan import ddl_catalog

    if isinstance(tree, exp.Show):
        return ddl_catalog.plan_show(tree)
    if isinstance(tree, exp.Describe):
        return ddl_catalog.plan_describe(tree)
    assert isinstance(tree, exp.Command)
    return ddl_catalog.plan_command(tree)


def _plan_create(tree: exp.Create, bindings: Bindings | None) -> DDLPlan:
    kind = str(tree.args.get("kind") or "").upper()
    if kind == "VIEW":
        from queryleaf.plan.ddl_views import plan_create_view

        return plan_create_view(tree, bindings)
    if kind == "TABLE":
        from queryleaf.plan.ddl_tables import plan_create_table

        return plan_create_table(tree, bindings)
    if kind == "INDEX":
        from queryleaf.plan.ddl_indexes import plan_create_index

        return plan_create_index(tree, bindings)
    raise unsupported(f"CREATE {kind}", tree)


def _plan_drop(tree: exp.Drop) -> DDLPlan:
    kind = str(tree.args.get("kind") or "").upper()
    if kind not in {"TABLE", "VIEW", "INDEX"}:
        raise unsupported(f"DROP {kind}", tree)
    for flag in ("temporary", "materialized", "cascade", "purge"):
        if tree.args.get(flag):
            raise unsupported(f"DROP {kind} with {flag.upper()}", tree)
    tables = tree.args.get("tables") or []
    if len(tables) != 1:
        raise SemanticError(
            f"DROP {kind} names one {kind.lower()} at a time",
            node=tables[1] if len(tables) > 1 else tree,
            hint=f"write one DROP {kind} statement per {kind.lower()}",
            code="QL345",
        )
    name, offset = object_name(tables[0])
    if_exists = bool(tree.args.get("exists"))
    if kind == "INDEX":
        from queryleaf.plan.ddl_indexes import plan_drop_index

        return plan_drop_index(tree, name, offset, if_exists)
    return DDLPlan(
        {"drop": name},
        action=f"drop_{kind.lower()}",
        name=name,
        if_exists=if_exists,
        offset=offset,
    )
