"""CREATE [OR REPLACE] VIEW: a MongoDB view (`create` with `viewOn` and `pipeline`) whose
documents have one field per column of the SELECT, named by its label, so that
`SELECT col FROM v` reads what the SELECT returned. A SELECT without FROM (a database-level
`$documents` pipeline) is a view too: on `queryleaf_no_documents`, its pipeline in a
`$unionWith` (see NO_DOCUMENTS_COLLECTION)."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from queryleaf.errors import SemanticError, UnsupportedError
from queryleaf.plan import mql
from queryleaf.plan.ddl_plan import NO_DOCUMENTS_COLLECTION, DDLPlan, object_name
from queryleaf.plan.literals import Bindings
from queryleaf.plan.paths import dotted, reference_parts
from queryleaf.plan.plans import OutputColumn, Plan, StarColumns
from queryleaf.plan.queries import plan_query
from queryleaf.plan.scope import JOINED_PREFIX


def plan_create_view(tree: exp.Create, bindings: Bindings | None) -> DDLPlan:
    name, offset = object_name(tree.this)
    query = tree.expression
    while isinstance(query, exp.Subquery):
        query = query.this
    if not isinstance(query, exp.Select | exp.SetOperation):
        kind = type(query).__name__.upper() if query is not None else "nothing"
        raise UnsupportedError(
            f"a view defined by {kind} is not supported",
            node=query if query is not None else tree,
            hint="define the view with a query: SELECT, WITH ... SELECT, UNION ...",
            code="QL201",
        )
    if isinstance(tree.this, exp.Schema) and tree.this.expressions:
        query = _rename_columns(query, [i.name for i in tree.this.expressions], tree.this)
    inner = plan_query(query, bindings)
    labels = _labels(_first_select(query), inner)
    replace = bool(tree.args.get("replace"))
    common: dict[str, Any] = {
        "action": "create_view",
        "name": name,
        "if_exists": bool(tree.args.get("exists")),
        "replace": replace,
        "offset": offset,
        "view_columns": labels,
    }
    notes = list(inner.notes)
    if inner.kind == "aggregate" and not isinstance(inner.command["aggregate"], str):
        # A database-level pipeline ($documents first): see NO_DOCUMENTS_COLLECTION.
        base = NO_DOCUMENTS_COLLECTION
        pipeline = [
            {"$match": {"$expr": False}},
            {"$unionWith": {"pipeline": list(inner.command["pipeline"])}},
            *_relabel_stages(inner),
        ]
        notes.append(
            "a SELECT without FROM reads no collection: the view is defined on "
            f"{NO_DOCUMENTS_COLLECTION} (which need not exist), lets none of its documents "
            "through, and adds the SELECT's rows with $unionWith"
        )
    else:
        base = inner.command[inner.kind]
        if inner.kind == "find":
            pipeline = _find_pipeline(inner)
        else:
            pipeline = list(inner.command["pipeline"]) + _relabel_stages(inner)
    if replace:
        notes.append(
            f"OR REPLACE: when {name} is a view already, runs "
            f'{{"collMod": "{name}", "viewOn": ..., "pipeline": ...}} with the same '
            "viewOn and pipeline instead"
        )
    return DDLPlan({"create": name, "viewOn": base, "pipeline": pipeline}, notes=notes, **common)


def _first_select(query: exp.Expression) -> exp.Select:
    """The SELECT whose select list names a query's columns (the first of a UNION)."""
    while not isinstance(query, exp.Select):
        query = query.this
    return query


def _rename_columns(
    query: exp.Expression, names: list[str], node: exp.Expression
) -> exp.Expression:
    """CREATE VIEW v (a, b) AS SELECT ...: the names become the select list's aliases."""
    items = _first_select(query).expressions
    if any(isinstance(i, exp.Star) or (isinstance(i, exp.Column) and i.is_star) for i in items):
        raise SemanticError(
            "a view's column list cannot rename SELECT *",
            node=node,
            hint="list the columns in the SELECT",
            code="QL344",
        )
    if len(names) != len(items):
        raise SemanticError(
            f"the view names {len(names)} columns but its SELECT has {len(items)}",
            node=node,
            code="QL344",
        )
    query = query.copy()  # parsed trees are cached and shared
    first = _first_select(query)
    renamed = []
    for item, new in zip(first.expressions, names, strict=True):
        value = item.this if isinstance(item, exp.Alias) else item
        renamed.append(exp.alias_(value, exp.to_identifier(new)))
    first.set("expressions", renamed)
    return query


def _labels(query: exp.Select, inner: Plan) -> list[str]:
    """The view's column labels, checked: each must be a usable field path, and unique."""
    columns = inner.columns or []
    stars = [c for c in columns if isinstance(c, StarColumns)]
    if any(star.path for star in stars):
        raise SemanticError(
            "a view over a join cannot use *",
            node=query,
            hint="list the columns of each table (with aliases where names repeat)",
            code="QL344",
        )
    nodes = [
        item
        for item in query.expressions
        if not (isinstance(item, exp.Star) or (isinstance(item, exp.Column) and item.is_star))
    ]
    outputs = [c for c in columns if isinstance(c, OutputColumn)]
    labels: list[str] = []
    for column, node in zip(outputs, nodes, strict=False):
        label = column.label
        # An unaliased expression is labelled with its SQL text, and an array element
        # (items[0].sku) with brackets: neither names a field that reads back as written.
        parts_written = reference_parts(node)
        computed = not isinstance(node, exp.Alias) and (
            parts_written is None or any(isinstance(p, int) for p in parts_written)
        )
        parts = label.split(".")
        if (computed and "." in label) or any(not p or p.startswith("$") for p in parts):
            raise SemanticError(
                f"the view column {label!r} is not a usable field name",
                node=node,
                hint="give it an alias: ... AS name",
                code="QL344",
            )
        if label.startswith(JOINED_PREFIX):
            raise SemanticError(
                f"view column names cannot start with {JOINED_PREFIX!r} ({label})",
                node=node,
                hint="give it another alias",
                code="QL344",
            )
        for other in labels:
            if other == label or label.startswith(other + ".") or other.startswith(label + "."):
                raise SemanticError(
                    f"the view has two columns named {label}"
                    if other == label
                    else f"the view columns {other} and {label} overlap",
                    node=node,
                    hint="give each column its own alias",
                    code="QL344",
                )
        labels.append(label)
    return labels


def _find_pipeline(plan: Plan) -> list[dict[str, Any]]:
    """A find plan as the view's pipeline, projecting each column under its label."""
    command = plan.command
    stages: list[dict[str, Any]] = []
    if command.get("filter"):
        stages.append({"$match": command["filter"]})
    if command.get("sort"):
        stages.append({"$sort": command["sort"]})
    if command.get("skip"):
        stages.append({"$skip": command["skip"]})
    if "limit" in command:
        limit = command["limit"]
        stages.append({"$limit": limit} if limit > 0 else {"$match": {"$expr": False}})
    return stages + _relabel_stages(plan)


def _relabel_stages(plan: Plan) -> list[dict[str, Any]]:
    """Stages that leave each output column under its label: a $project for a select list,
    a $set (and $unset of queryleaf's hidden fields) beside `*`. None when the plan's
    output fields are the labels already."""
    columns = plan.columns or []
    outputs = [c for c in columns if isinstance(c, OutputColumn)]
    if any(isinstance(c, StarColumns) for c in columns):
        moved = {c.label: mql.path_expr(c.path) for c in outputs if dotted(c.path) != c.label}
        hidden = sorted(
            {
                str(c.path[0])
                for c in outputs
                if isinstance(c.path[0], str) and c.path[0].startswith(JOINED_PREFIX)
            }
        )
        stages: list[dict[str, Any]] = [{"$set": moved}] if moved else []
        if hidden:
            stages.append({"$unset": hidden})
        return stages
    is_find = plan.kind == "find"
    if not is_find and all(c.path == (c.label,) for c in outputs):
        return []  # the pipeline's $project named the fields by their labels
    keeps_id = any(c.label == "_id" or c.label.startswith("_id.") for c in outputs)
    projection: dict[str, Any] = {} if keeps_id else {"_id": 0}
    for column in outputs:
        if is_find and dotted(column.path) == column.label:
            projection[column.label] = 1
        else:
            projection[column.label] = mql.path_expr(column.path)
    return [{"$project": projection}]
