"""INSERT, UPDATE and DELETE to MongoDB write commands. The whole statement is planned
before anything runs, so a WHERE that cannot be translated fails with nothing written, and
no write ever runs with a filter wider than the SQL says."""

from __future__ import annotations

import re
from typing import Any

from sqlglot import exp

from queryleaf.errors import SemanticError, UnsupportedError
from queryleaf.plan import mql
from queryleaf.plan.expressions import ExprCompiler
from queryleaf.plan.filters import FilterCompiler
from queryleaf.plan.literals import Bindings, NotConstant, constant_value
from queryleaf.plan.paths import check_field_names, dotted, reference_parts
from queryleaf.plan.plans import OutputColumn, Path, Plan
from queryleaf.plan.scope import Relation, Scope

SIMPLE_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def _table(node: exp.Expression, statement: str) -> Relation:
    if isinstance(node, exp.Schema):
        node = node.this
    if not isinstance(node, exp.Table) or not isinstance(node.this, exp.Identifier):
        raise UnsupportedError(f"{statement} needs one collection name", node=node, code="QL201")
    return Relation(alias=node.alias or node.name, collection=node.name, node=node)


def plan_insert(insert: exp.Insert, bindings: Bindings | None) -> Plan:
    target = insert.this
    relation = _table(target, "INSERT")
    columns = _insert_columns(target)
    source = insert.expression
    if isinstance(source, exp.Values):
        documents = [_document(columns, row, bindings, relation) for row in source.expressions]
        return Plan({"insert": relation.collection, "documents": documents, "ordered": True})
    if isinstance(source, exp.Select | exp.SetOperation):
        return _plan_insert_select(relation, columns, source, bindings)
    raise UnsupportedError("INSERT takes VALUES (...) or a SELECT", node=insert, code="QL201")


def _insert_columns(target: exp.Expression) -> list[Path] | None:
    if not isinstance(target, exp.Schema):
        return None
    paths: list[Path] = []
    for column in target.expressions:
        parts = reference_parts(column) if not isinstance(column, exp.Identifier) else None
        # A quoted name with dots (`address.city`) is a path: sqlglot does not parse
        # dotted names in a column list, and MongoDB field names should not hold dots.
        path: Path = tuple(parts) if parts else tuple(column.name.split("."))
        if any(isinstance(p, int) for p in path):
            raise UnsupportedError("INSERT columns cannot index arrays", node=column, code="QL203")
        check_field_names(path, column)
        paths.append(path)
    return paths


def _document(
    columns: list[Path] | None,
    row: exp.Expression,
    bindings: Bindings | None,
    relation: Relation,
) -> dict[str, Any]:
    values = row.expressions if isinstance(row, exp.Tuple) else [row]
    constants = [_insert_value(v, bindings) for v in values]
    if columns is None:
        if len(constants) == 1 and isinstance(constants[0], dict):
            return constants[0]
        raise SemanticError(
            f"INSERT INTO {relation.collection} needs a column list",
            node=row,
            hint=f"write INSERT INTO {relation.collection} (a, b) VALUES (...), or insert "
            "whole documents with VALUES (JSON_OBJECT(...))",
            code="QL304",
        )
    if len(constants) != len(columns):
        raise SemanticError(
            f"{len(columns)} columns but {len(constants)} values",
            node=row,
            hint="give one value per column",
            code="QL304",
        )
    document: dict[str, Any] = {}
    for path, value in zip(columns, constants, strict=True):
        _set_path(document, path, value, row)
    return document


def _insert_value(node: exp.Expression, bindings: Bindings | None) -> Any:
    try:
        return constant_value(node, bindings)
    except NotConstant:
        raise UnsupportedError(
            f"INSERT ... VALUES takes constants; {node.sql('mysql')} is computed",
            node=node,
            hint="use literals, JSON_OBJECT/JSON_ARRAY, OBJECTID('...'), parameters, or "
            "INSERT ... SELECT for computed values",
            code="QL205",
        ) from None


def _set_path(document: dict[str, Any], path: Path, value: Any, node: exp.Expression) -> None:
    current = document
    for part in path[:-1]:
        nested = current.setdefault(str(part), {})
        if not isinstance(nested, dict):
            raise SemanticError(
                f"column {dotted(path)} conflicts with another column", node=node, code="QL304"
            )
        current = nested
    if str(path[-1]) in current:
        raise SemanticError(f"column {dotted(path)} is given twice", node=node, code="QL304")
    current[str(path[-1])] = value


def _plan_insert_select(
    relation: Relation,
    columns: list[Path] | None,
    source: exp.Expression,
    bindings: Bindings | None,
) -> Plan:
    from queryleaf.plan.context import QueryContext
    from queryleaf.plan.queries import query_pipeline

    inner = query_pipeline(source, QueryContext(bindings))
    outputs = inner.columns
    if any(not isinstance(c, OutputColumn) for c in outputs):
        raise UnsupportedError(
            "INSERT ... SELECT * is not supported",
            node=source,
            hint="list the columns",
            code="QL201",
        )
    if columns is None:
        _check_labels(relation, outputs, source)  # type: ignore[arg-type]
    targets = columns or [(c.label,) for c in outputs]  # type: ignore[union-attr]
    if len(targets) != len(outputs):
        raise SemanticError(
            f"{len(targets)} columns but the SELECT gives {len(outputs)}",
            node=source,
            code="QL304",
        )
    # `_id` is left out unless a target column sets it (then it is the selected value).
    mapping: dict[str, Any] = {} if ("_id",) in targets else {"_id": 0}
    for path, column in zip(targets, outputs, strict=True):
        mapping[dotted(path)] = mql.path_expr(column.path)  # type: ignore[union-attr]
    pipeline = [
        *inner.stages,
        {"$project": mapping},
        {
            "$merge": {
                "into": relation.collection,
                "on": "_id",
                "whenMatched": "fail",
                "whenNotMatched": "insert",
            }
        },
    ]
    target = inner.collection if inner.collection is not None else 1
    command = {"aggregate": target, "pipeline": pipeline, "cursor": {}}
    count = {"aggregate": target, "pipeline": [*inner.stages, {"$count": "n"}], "cursor": {}}
    notes = [
        *inner.notes,
        "INSERT ... SELECT runs as one pipeline ending in $merge; MongoDB does not report "
        "how many documents $merge inserted, so the same SELECT is counted first ($count) "
        "for the row count",
    ]
    return Plan(command, columns=None, notes=notes, count_command=count)


def _check_labels(relation: Relation, outputs: list[OutputColumn], source: exp.Expression) -> None:
    """Without a column list, each SELECT column lands in the field its label names: a plain
    column or an alias. A computed column without an alias (`a + 10`) needs a column list
    (its label is SQL text, not a field name; MySQL would map it by position onto the
    table's declared columns, which a schemaless collection does not have)."""
    for column in outputs:
        label = column.label
        if not SIMPLE_LABEL.match(label):
            raise SemanticError(
                f"INSERT INTO {relation.collection} ... SELECT: the column {label} has no name "
                "to store it under",
                node=source,
                hint=f"list the target columns (INSERT INTO {relation.collection} (a, b) "
                f"SELECT ...) or give it an alias ({label} AS name)",
                code="QL304",
            )


def _where_filter(
    statement: exp.Expression, relation: Relation, bindings: Bindings | None
) -> dict[str, Any]:
    scope = Scope([relation])
    exprs = ExprCompiler(lambda node: mql.path_expr(scope.full_path(node)), bindings)
    filters = FilterCompiler(lambda node: dotted(scope.full_path(node)), exprs, bindings)
    where = statement.args.get("where")
    return filters.compile_where(where.this if where is not None else None)


def _single_row_limit(statement: exp.Expression, bindings: Bindings | None) -> bool:
    if statement.args.get("order") is not None:
        raise UnsupportedError(
            "ORDER BY in UPDATE/DELETE is not supported",
            node=statement.args["order"],
            code="QL206",
        )
    limit = statement.args.get("limit")
    if limit is None:
        return False
    node = limit.expression if isinstance(limit, exp.Limit) else limit
    try:
        value = constant_value(node, bindings)
    except NotConstant:
        value = None
    if value != 1:
        raise UnsupportedError(
            "UPDATE/DELETE support only LIMIT 1",
            node=node,
            hint="MongoDB writes one document or all matching documents",
            code="QL206",
        )
    return True


def plan_update(update: exp.Update, bindings: Bindings | None) -> Plan:
    if update.args.get("from") or update.args.get("from_") or update.args.get("joins"):
        raise UnsupportedError(
            "UPDATE with FROM or JOIN is not supported", node=update, code="QL206"
        )
    relation = _table(update.this, "UPDATE")
    scope = Scope([relation])
    query = _where_filter(update, relation, bindings)
    single = _single_row_limit(update, bindings)
    assignments: list[tuple[Path, exp.Expression]] = []
    for assignment in update.expressions:
        if not isinstance(assignment, exp.EQ) or reference_parts(assignment.this) is None:
            raise SemanticError("SET takes column = value pairs", node=assignment, code="QL304")
        path = scope.resolve(assignment.this)[1]
        if any(isinstance(p, int) and p < 0 for p in path):
            raise UnsupportedError(
                "SET of an array element counted from the end (items[-1]) is not supported",
                node=assignment.this,
                hint="MongoDB updates array elements by position from the start: items[0]",
                code="QL203",
            )
        assignments.append((path, assignment.expression))
    constants: dict[str, Any] = {}
    computed = False
    for path, value_node in assignments:
        try:
            constants[dotted(path)] = constant_value(value_node, bindings)
        except NotConstant:
            computed = True
    if not computed:
        change: Any = {"$set": constants}
    else:
        exprs = ExprCompiler(lambda node: mql.path_expr(scope.full_path(node)), bindings)
        values: dict[str, Any] = {}
        for path, value_node in assignments:
            if any(isinstance(p, int) for p in path):
                raise UnsupportedError(
                    "SET of an array element to a computed value is not supported",
                    node=value_node,
                    hint="set array elements to constants, or set the whole array",
                    code="QL203",
                )
            # All right-hand sides read the row as it was before the UPDATE (one $set).
            values[dotted(path)] = exprs.value(value_node)
        change = [{"$set": values}]
    statement = {"q": query, "u": change, "multi": not single}
    return Plan({"update": relation.collection, "updates": [statement]})


def plan_delete(delete: exp.Delete, bindings: Bindings | None) -> Plan:
    if delete.args.get("using") or delete.args.get("tables"):
        raise UnsupportedError("multi-table DELETE is not supported", node=delete, code="QL206")
    relation = _table(delete.this, "DELETE")
    query = _where_filter(delete, relation, bindings)
    single = _single_row_limit(delete, bindings)
    statement = {"q": query, "limit": 1 if single else 0}
    return Plan({"delete": relation.collection, "deletes": [statement]})
