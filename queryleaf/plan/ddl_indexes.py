"""CREATE INDEX and DROP INDEX: `createIndexes` and `dropIndexes` commands."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from queryleaf.errors import QueryLeafError, SemanticError, node_offset
from queryleaf.plan import mql
from queryleaf.plan.ddl_plan import DDLPlan, object_name, unsupported
from queryleaf.plan.expressions import ExprCompiler
from queryleaf.plan.filters import FilterCompiler
from queryleaf.plan.literals import Bindings, NotConstant, constant_value
from queryleaf.plan.paths import dotted
from queryleaf.plan.scope import Relation, Scope

# WITH (...) options of CREATE INDEX and the index fields they set.
_OPTIONS = {
    "expireafterseconds": "expireAfterSeconds",
    "sparse": "sparse",
    "hidden": "hidden",
}


def plan_create_index(tree: exp.Create, bindings: Bindings | None) -> DDLPlan:
    index = tree.this
    if not isinstance(index, exp.Index) or index.args.get("table") is None:
        raise unsupported("this form of CREATE INDEX", tree)
    collection, offset = object_name(index.args["table"])
    params = index.args.get("params")
    columns = list(params.args.get("columns") or []) if params is not None else []
    if not columns:
        raise SemanticError("CREATE INDEX needs a column list", node=tree, code="QL345")
    for unsupported_arg in ("using", "include", "partition_by", "tablespace", "on"):
        if params.args.get(unsupported_arg):
            raise unsupported(f"CREATE INDEX with {unsupported_arg.upper()}", tree)
    scope = Scope([Relation(collection, collection)])
    key: dict[str, int] = {}
    for column in columns:
        node = column.this if isinstance(column, exp.Ordered) else column
        path = _key_path(node, scope)
        if path in key:
            raise SemanticError(f"{path} is listed twice in the index", node=node, code="QL345")
        key[path] = -1 if isinstance(column, exp.Ordered) and column.args.get("desc") else 1
    name_node = index.this
    if isinstance(name_node, exp.Identifier) and name_node.name:
        name, name_offset = name_node.name, node_offset(name_node)
    else:
        # MongoDB's default name: a_1_b_-1.
        name = "_".join(f"{field}_{order}" for field, order in key.items())
        name_offset = offset
    spec: dict[str, Any] = {"key": key, "name": name}
    if tree.args.get("unique"):
        spec["unique"] = True
    where = params.args.get("where")
    if where is not None:
        spec["partialFilterExpression"] = _partial_filter(where.this, scope, bindings)
    for prop in params.args.get("with_storage") or []:
        option = (
            _OPTIONS.get(prop.name.lower().replace("_", ""))
            if isinstance(prop, exp.Property)
            else None
        )
        if option is None:
            raise SemanticError(
                f"unknown index option {prop.sql('mysql')}",
                node=prop,
                hint="CREATE INDEX takes WITH (expire_after_seconds = n, sparse = TRUE, "
                "hidden = TRUE)",
                code="QL345",
            )
        spec[option] = _option_value(option, prop, bindings)
    if "expireAfterSeconds" in spec and len(key) != 1:
        raise SemanticError(
            "expire_after_seconds (a TTL index) needs an index on one date field",
            node=tree,
            hint="MongoDB's TTL indexes are single-field indexes",
            code="QL345",
        )
    notes = []
    if "expireAfterSeconds" in spec:
        notes.append(
            f"TTL index: MongoDB deletes a document {spec['expireAfterSeconds']} seconds after "
            f"the date in {next(iter(key))} (a background task, about once a minute)"
        )
    return DDLPlan(
        {"createIndexes": collection, "indexes": [spec]},
        notes=notes,
        action="create_index",
        name=name,
        target=collection,
        if_exists=bool(tree.args.get("exists")),
        offset=name_offset,
    )


def plan_drop_index(tree: exp.Drop, name: str, offset: int | None, if_exists: bool) -> DDLPlan:
    on = tree.args.get("cluster")
    if not isinstance(on, exp.OnProperty):
        raise SemanticError(
            f"DROP INDEX {name} needs ON <collection>",
            node=tree,
            hint=f"write DROP INDEX {name} ON collection",
            code="QL345",
        )
    collection, _ = object_name(on.this)
    return DDLPlan(
        {"dropIndexes": collection, "index": name},
        action="drop_index",
        name=name,
        target=collection,
        if_exists=if_exists,
        offset=offset,
    )


def _key_path(node: exp.Expression, scope: Scope) -> str:
    try:
        path = scope.full_path(node)
    except QueryLeafError:
        path = None
    if path is None or any(isinstance(part, int) for part in path):
        raise SemanticError(
            f"an index key must be a field path, not {node.sql('mysql')}",
            node=node,
            hint="write CREATE INDEX name ON coll (a, b DESC, address.city)",
            code="QL345",
        )
    return dotted(path)


def _partial_filter(
    where: exp.Expression, scope: Scope, bindings: Bindings | None
) -> dict[str, Any]:
    exprs = ExprCompiler(lambda node: mql.path_expr(scope.full_path(node)), bindings)
    filters = FilterCompiler(lambda node: dotted(scope.full_path(node)), exprs, bindings)
    return filters.compile_where(where)


def _option_value(option: str, prop: exp.Property, bindings: Bindings | None) -> Any:
    node = prop.args.get("value")
    try:
        value = constant_value(node, bindings)
    except NotConstant:
        value = None
    if option == "expireAfterSeconds":
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise SemanticError(
                "expire_after_seconds takes a non-negative whole number of seconds",
                node=node,
                code="QL345",
            )
        return value
    if not isinstance(value, bool):
        raise SemanticError(f"{prop.name} takes TRUE or FALSE", node=node, code="QL345")
    return value
