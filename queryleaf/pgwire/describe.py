"""Types without running the statement: result columns from the plan (labels) and the
collection's sampled fields (types), parameter types from where a `$n` stands (a cast, a
comparison with a column, LIMIT, an INSERT column), else text."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlglot import exp

from queryleaf.pgwire import types
from queryleaf.plan.plans import ExplainPlan, OutputColumn, Plan, StarColumns

SAMPLE = 100
TTL = 5.0


class FieldTypes:
    """Sampled field types per collection ({path: oid}), cached for a few seconds."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self._cache: dict[str, tuple[float, dict[str, int]]] = {}
        self._lock = threading.Lock()

    def of(self, collection: str) -> dict[str, int]:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(collection)
            if hit and now - hit[0] < TTL:
                return hit[1]
        fields = field_types(self.db, collection)
        with self._lock:
            self._cache[collection] = (now, fields)
        return fields


_BSON_TYPES = {
    "string": types.TEXT, "int": types.INT4, "long": types.INT8, "double": types.FLOAT8,
    "decimal": types.NUMERIC, "bool": types.BOOL, "date": types.TIMESTAMPTZ,
    "object": types.JSONB, "array": types.JSONB, "objectId": types.TEXT,
    "binData": types.BYTEA, "number": types.FLOAT8,
}  # fmt: skip


def declared_types(options: dict[str, Any]) -> dict[str, int]:
    """{field: oid} from a `$jsonSchema` validator's properties (bsonType, or one non-null of
    several); text where the type is not one."""
    schema = (options.get("validator") or {}).get("$jsonSchema") or {}
    declared: dict[str, int] = {}
    for name, spec in (schema.get("properties") or {}).items():
        kind = spec.get("bsonType") if isinstance(spec, dict) else None
        if isinstance(kind, list):
            kinds = [k for k in kind if k != "null"]
            kind = kinds[0] if len(kinds) == 1 else None
        declared[name] = _BSON_TYPES.get(kind, types.TEXT) if isinstance(kind, str) else types.TEXT
    return declared


def field_types(db: Any, collection: str, options: dict[str, Any] | None = None) -> dict[str, int]:
    """Declared types first (a `$jsonSchema` validator), then sampled ones."""
    if options is None:
        options = {}
        for info in db.list_collections(filter={"name": collection}):
            options = info.get("options") or {}
    found = declared_types(options)
    for path, oid in sample_types(db, collection).items():
        found.setdefault(path, oid)
    return found


def sample_types(db: Any, collection: str) -> dict[str, int]:
    """{path: oid} over the first documents, paths in first-seen order, two levels deep."""
    values: dict[str, list[Any]] = {}
    for document in db[collection].find({}, limit=SAMPLE):
        _walk(document, "", values, 0)
    return {path: types.column_oid(found) for path, found in values.items()}


def _walk(document: dict[str, Any], prefix: str, values: dict[str, list[Any]], depth: int) -> None:
    for key, value in document.items():
        path = prefix + key
        values.setdefault(path, []).append(value)
        if isinstance(value, dict) and depth < 1:
            _walk(value, path + ".", values, depth + 1)


# --- result columns ---------------------------------------------------------------------------


def plan_fields(plan: Any, fields: FieldTypes) -> list[tuple[str, int]] | None:
    """(label, oid) of a plan's rows, or None for a statement that returns no rows."""
    if isinstance(plan, ExplainPlan):
        return [("command", types.TEXT), ("notes", types.TEXT)]
    if not isinstance(plan, Plan) or plan.columns is None:
        return None
    collection = plan.collection
    sampled = fields.of(collection) if collection else {}
    out: list[tuple[str, int]] = []
    for column in plan.columns:
        if isinstance(column, StarColumns):
            for path, oid in sampled.items():
                if "." not in path and not path.startswith(column.hidden_prefix):
                    out.append((path, oid))
            continue
        assert isinstance(column, OutputColumn)
        out.append((column.label, _column_type(plan, column, sampled)))
    return out


def _column_type(plan: Plan, column: OutputColumn, sampled: dict[str, int]) -> int:
    path = ".".join(str(p) for p in column.path)
    if plan.kind == "find":
        return sampled.get(path, types.TEXT)
    expression = _defining_expression(plan.command.get("pipeline") or [], str(column.path[0]))
    if expression is _MISSING:
        return sampled.get(path, types.TEXT)
    return expression_type(expression, sampled)


_MISSING = object()


def _defining_expression(pipeline: list[dict[str, Any]], name: str) -> Any:
    for stage in reversed(pipeline):
        for key in ("$project", "$addFields", "$set", "$group"):
            body = stage.get(key)
            if isinstance(body, dict) and name in body:
                return body[name]
        if "$replaceRoot" in stage or "$replaceWith" in stage:
            return _MISSING
    return _MISSING


_TEXT_OPS = {
    "$concat",
    "$toString",
    "$toUpper",
    "$toLower",
    "$substrCP",
    "$substr",
    "$trim",
    "$ltrim",
    "$rtrim",
    "$dateToString",
    "$type",
    "$replaceAll",
    "$substrBytes",
}
_INT_OPS = {
    "$toLong",
    "$toInt",
    "$strLenCP",
    "$size",
    "$count",
    "$year",
    "$month",
    "$dayOfMonth",
    "$hour",
    "$minute",
    "$second",
    "$indexOfCP",
    "$week",
    "$dayOfWeek",
}
_FLOAT_OPS = {
    "$toDouble",
    "$avg",
    "$divide",
    "$sqrt",
    "$ln",
    "$log10",
    "$exp",
    "$pow",
    "$stdDevPop",
    "$stdDevSamp",
}
_BOOL_OPS = {
    "$toBool",
    "$and",
    "$or",
    "$not",
    "$eq",
    "$ne",
    "$gt",
    "$gte",
    "$lt",
    "$lte",
    "$in",
    "$regexMatch",
    "$isNumber",
    "$isArray",
}
_SAME_OPS = {
    "$first",
    "$last",
    "$min",
    "$max",
    "$ifNull",
    "$abs",
    "$round",
    "$trunc",
    "$floor",
    "$ceil",
}


def expression_type(expression: Any, sampled: dict[str, int]) -> int:
    if (
        isinstance(expression, str)
        and expression.startswith("$")
        and not expression.startswith("$$")
    ):
        return sampled.get(expression[1:], types.TEXT)
    if not isinstance(expression, dict):
        return types.oid_of_value(expression) or types.TEXT
    if len(expression) != 1:
        return types.JSONB
    ((operator, argument),) = expression.items()
    if not operator.startswith("$"):
        return types.JSONB
    if operator == "$literal":
        return types.oid_of_value(argument) or types.TEXT
    if operator in _TEXT_OPS:
        return types.TEXT
    if operator in _INT_OPS:
        return types.INT8
    if operator in _FLOAT_OPS:
        return types.FLOAT8
    if operator in _BOOL_OPS:
        return types.BOOL
    if operator in ("$toDate", "$dateFromString", "$dateAdd", "$dateSubtract"):
        return types.TIMESTAMPTZ
    if operator in ("$toDecimal",):
        return types.NUMERIC
    if operator in ("$push", "$addToSet", "$concatArrays", "$objectToArray", "$mergeObjects"):
        return types.JSONB
    if operator == "$sum":
        if argument == 1 or isinstance(argument, int):
            return types.INT8
        inner = expression_type(argument, sampled)
        return inner if inner in (types.INT8, types.FLOAT8, types.NUMERIC) else types.FLOAT8
    if operator in _SAME_OPS:
        first = argument[0] if isinstance(argument, list) and argument else argument
        return expression_type(first, sampled)
    if operator in ("$add", "$subtract", "$multiply"):
        kinds = (
            {expression_type(a, sampled) for a in argument} if isinstance(argument, list) else set()
        )
        if kinds <= {types.INT8}:
            return types.INT8
        if types.TIMESTAMPTZ in kinds and operator == "$add":
            return types.TIMESTAMPTZ
        return types.FLOAT8
    if operator == "$cond":
        branches = (
            argument[1:]
            if isinstance(argument, list)
            else [argument.get("then"), argument.get("else")]
        )
        return types.column_oid_of_types(
            [expression_type(b, sampled) for b in branches if b is not None]
        )
    if operator == "$switch" and isinstance(argument, dict):
        branches = [b.get("then") for b in argument.get("branches", [])]
        if "default" in argument:
            branches.append(argument["default"])
        return types.column_oid_of_types(
            [expression_type(b, sampled) for b in branches if b is not None]
        )
    return types.TEXT


# --- parameters -------------------------------------------------------------------------------


def parameter_types(
    tree: exp.Expression, count: int, fields: FieldTypes, given: list[int]
) -> list[int]:
    """One oid per `$1..$count`: the client's when it gave one, else inferred from context."""
    found: dict[int, int] = {}
    table = _main_table(tree)
    sampled = fields.of(table) if table else {}
    for node in tree.find_all(exp.Parameter, exp.Placeholder):
        number = _number(node)
        if number is None or number in found:
            continue
        oid = _context_type(node, sampled, tree)
        if oid is not None:
            found[number] = oid
    out = []
    for index in range(count):
        if index < len(given) and given[index]:
            out.append(given[index])
        else:
            out.append(found.get(index + 1, types.TEXT))
    return out


def _number(node: exp.Expression) -> int | None:
    text = node.this.name if isinstance(node.this, exp.Expression) else str(node.this or "")
    return int(text) if text.isdigit() else None


def _main_table(tree: exp.Expression) -> str | None:
    target = tree.this if isinstance(tree, exp.Insert | exp.Update | exp.Delete) else None
    if isinstance(target, exp.Schema):
        target = target.this
    if isinstance(target, exp.Table):
        return target.name
    table = tree.find(exp.Table)
    return table.name if table is not None else None


def _context_type(
    node: exp.Expression, sampled: dict[str, int], tree: exp.Expression
) -> int | None:
    parent = node.parent
    if isinstance(parent, exp.Cast):
        return types.BY_NAME.get(parent.to.sql("postgres").lower().split("(")[0], types.TEXT)
    if isinstance(parent, exp.Limit | exp.Offset) or isinstance(node.parent, exp.Fetch):
        return types.INT8
    if isinstance(parent, exp.Binary | exp.In | exp.Between):
        for other in parent.iter_expressions():
            if isinstance(other, exp.Column):
                return sampled.get(_path(other))
    if (
        isinstance(parent, exp.EQ) is False
        and isinstance(parent, exp.Tuple)
        and isinstance(tree, exp.Insert)
    ):
        schema = tree.this
        if isinstance(schema, exp.Schema):
            names = [_path(c) if isinstance(c, exp.Column) else c.name for c in schema.expressions]
            position = parent.expressions.index(node)
            if position < len(names):
                return sampled.get(names[position])
    return None


def _path(column: exp.Column) -> str:
    return (
        ".".join(part.name for part in column.parts[1:])
        if column.table and column.parts[0].name == column.table
        else column.name
    )
