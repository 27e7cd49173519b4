"""Whole queries as one pipeline: WITH (CTEs), SELECT and the set operations UNION [ALL],
INTERSECT and EXCEPT with ORDER BY/LIMIT over the whole."""

from __future__ import annotations

import re
from typing import Any

from sqlglot import exp

from queryleaf.errors import SemanticError, UnsupportedError
from queryleaf.plan.context import QueryContext, QueryPipeline
from queryleaf.plan.literals import Bindings
from queryleaf.plan.null_order import nulls_first_wanted, sort_stages
from queryleaf.plan.plans import OutputColumn, Plan
from queryleaf.plan.pushdown import filters_before_projections
from queryleaf.plan.select_items import count_of, position_of

UNSUPPORTED_WITH = "WITH is supported at the start of a statement or subquery only"
SIDE = "__side"


def plan_query(tree: exp.Expression, bindings: Bindings | None) -> Plan:
    """A top-level query. A plain SELECT without CTEs keeps the `find` fast path."""
    ctx = QueryContext(bindings)
    if isinstance(tree, exp.Select) and not _with(tree):
        from queryleaf.plan.select import SelectCompiler

        plan = SelectCompiler(tree, ctx).plan()
        if "pipeline" in plan.command:
            plan.command["pipeline"] = filters_before_projections(plan.command["pipeline"])
        return plan
    query = query_pipeline(tree, ctx)
    target = query.collection if query.collection is not None else 1
    return Plan(
        {"aggregate": target, "pipeline": filters_before_projections(query.stages), "cursor": {}},
        columns=query.columns,
        notes=query.notes,
    )


def query_pipeline(node: exp.Expression, ctx: QueryContext) -> QueryPipeline:
    with_ = _with(node)
    if with_ is not None:
        # The tree is not copied: parameters are bound to its nodes.
        ctx = _with_ctes(with_, ctx)
    if isinstance(node, exp.Subquery):
        return query_pipeline(node.this, ctx)
    if isinstance(node, exp.Select):
        from queryleaf.plan.select import SelectCompiler

        return SelectCompiler(node, ctx, ctes_done=with_ is not None).pipeline()
    if isinstance(node, exp.Union | exp.Intersect | exp.Except):
        return _set_operation(node, ctx)
    raise UnsupportedError(
        f"{type(node).__name__.upper()} cannot be used as a query", node=node, code="QL201"
    )


def _with(node: exp.Expression) -> exp.With | None:
    return node.args.get("with_") or node.args.get("with")


def _with_ctes(with_: exp.With, ctx: QueryContext) -> QueryContext:
    """Each CTE sees the ones before it. A CTE referenced several times runs once per
    reference (MongoDB has no materialised CTEs)."""
    if with_.args.get("recursive"):
        raise UnsupportedError("WITH RECURSIVE is not supported", node=with_, code="QL201")
    scope = ctx.nested(outer=ctx.outer)
    for cte in with_.expressions:
        name = cte.alias
        query = query_pipeline(cte.this, scope)
        column_names = (
            [c.name for c in (cte.args.get("alias").columns or [])] if cte.args.get("alias") else []
        )
        if column_names:
            query = rename_columns(query, column_names, cte)
        scope.ctes[name] = query
    return scope


def rename_columns(query: QueryPipeline, names: list[str], node: exp.Expression) -> QueryPipeline:
    """WITH c(a, b) AS (...) and FROM (...) AS q(a, b): the query's columns take the listed
    names, by position."""
    outputs = _outputs(
        query,
        node,
        "a column list cannot rename the columns of SELECT *",
        "list the inner query's columns instead of *",
    )
    if len(outputs) != len(names):
        raise SemanticError(
            f"{len(names)} column names for a query of {len(query.columns)} columns",
            node=node,
            code="QL304",
        )
    if all(_PLAIN_NAME.match(n) for n in names) and len(set(names)) == len(names):
        # The fields take the new names too, so `SELECT *` from the CTE shows them.
        from queryleaf.plan import mql

        mapping: dict[str, Any] = {} if "_id" in names else {"_id": 0}
        for name, c in zip(names, outputs, strict=True):
            mapping[name] = mql.path_expr(c.path)
        columns = [OutputColumn(name, (name,)) for name in names]
        return QueryPipeline(
            query.collection, [*query.stages, {"$project": mapping}], columns, query.notes
        )
    columns = [OutputColumn(name, c.path) for name, c in zip(names, outputs, strict=True)]
    return QueryPipeline(query.collection, query.stages, columns, query.notes)


_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _set_operation(node: exp.Expression, ctx: QueryContext) -> QueryPipeline:
    left = query_pipeline(node.this, ctx)
    right = query_pipeline(node.expression, ctx)
    left_columns = _outputs(left, node.this)
    right_columns = _outputs(right, node.expression)
    if len(left_columns) != len(right_columns):
        raise SemanticError(
            f"the two sides of {node.key.upper()} have {len(left_columns)} and "
            f"{len(right_columns)} columns",
            node=node,
            hint="select the same number of columns on both sides",
            code="QL317",
        )
    fields = [str(c.path[0]) for c in left_columns]
    # SQL pairs columns by position: the right side takes the left side's field names.
    rename = {"_id": 0} | {
        field: f"${c.path[0]}" for field, c in zip(fields, right_columns, strict=True)
    }
    right_stages = [*right.stages, {"$project": rename}]
    distinct = bool(node.args.get("distinct"))
    left_stages = list(left.stages)
    if isinstance(node, exp.Intersect | exp.Except):
        if not distinct:
            raise UnsupportedError(
                f"{node.key.upper()} ALL is not supported", node=node, code="QL201"
            )
        left_stages.append({"$set": {SIDE: 1}})
        right_stages.append({"$set": {SIDE: 2}})
    union: dict[str, Any] = {"pipeline": right_stages}
    if right.collection is not None:
        union = {"coll": right.collection, **union}
    stages = [*left_stages, {"$unionWith": union}]
    key = {field: {"$ifNull": [f"${field}", None]} for field in fields}
    if isinstance(node, exp.Union) and distinct:
        stages += [{"$group": {"_id": key}}, {"$replaceWith": "$_id"}]
    elif isinstance(node, exp.Intersect | exp.Except):
        keep = {"$eq": [{"$size": "$sides"}, 2]}
        if isinstance(node, exp.Except):
            keep = {"$eq": ["$sides", [1]]}
        stages += [
            {"$group": {"_id": key, "sides": {"$addToSet": f"${SIDE}"}}},
            {"$match": {"$expr": keep}},
            {"$replaceWith": "$_id"},
        ]
    stages += _order_and_limit(node, left_columns, ctx.bindings)
    return QueryPipeline(left.collection, stages, list(left_columns), left.notes + right.notes)


def _outputs(
    query: QueryPipeline,
    node: exp.Expression,
    refusal: str = "SELECT * in a set operation is not supported",
    hint: str = "list the columns of each side",
) -> list[OutputColumn]:
    """The query's columns, each a named output; `SELECT *` (columns unknown) is refused."""
    outputs = [c for c in query.columns if isinstance(c, OutputColumn)]
    if len(outputs) != len(query.columns):
        raise UnsupportedError(refusal, node=node, hint=hint, code="QL201")
    return outputs


def _order_and_limit(
    node: exp.Expression, columns: list[OutputColumn], bindings: Bindings | None
) -> list[dict[str, Any]]:
    """ORDER BY / LIMIT / OFFSET over the whole set operation: by label or position."""
    stages: list[dict[str, Any]] = []
    order = node.args.get("order")
    if order is not None:
        sort: dict[str, int] = {}
        nulls: dict[str, bool] = {}
        for ordered in order.expressions:
            column = _column_named(ordered.this, columns, bindings)
            sort.setdefault(str(column.path[0]), -1 if ordered.args.get("desc") else 1)
            if nulls_first_wanted(ordered) is not None:
                nulls.setdefault(str(column.path[0]), bool(nulls_first_wanted(ordered)))
        sorting, flags = sort_stages(sort, nulls)
        stages += sorting
    offset = node.args.get("offset")
    if offset is not None:
        skip = count_of(offset.expression, bindings, "OFFSET")
        if skip:
            stages.append({"$skip": skip})
    limit = node.args.get("limit")
    if limit is not None:
        count = count_of(limit.expression, bindings, "LIMIT")
        stages.append({"$limit": count} if count else {"$match": {"$expr": False}})
    if order is not None and flags:
        stages.append({"$unset": flags})
    return stages


def _column_named(
    node: exp.Expression, columns: list[OutputColumn], bindings: Bindings | None
) -> OutputColumn:
    position = position_of(node, bindings)
    if position is not None and 1 <= position <= len(columns):
        return columns[position - 1]
    if isinstance(node, exp.Column) and not node.table:
        for column in columns:
            if column.label == node.name:
                return column
    raise SemanticError(
        "ORDER BY of a set operation names a result column or position",
        node=node,
        hint="columns: " + ", ".join(c.label for c in columns),
        code="QL303",
    )
