"""Small builders for MQL aggregation expressions, with constant folding so that plans stay
short and readable in EXPLAIN."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bson import ObjectId

from queryleaf.plan.plans import Path


class Missing:
    """Marker for 'no constant value' in folding helpers."""


def is_constant(value: Any) -> bool:
    """True for an MQL value that is a literal rather than an expression or field path."""
    if isinstance(value, str):
        return not value.startswith("$")
    if isinstance(value, dict):
        return set(value) == {"$literal"}
    return not isinstance(value, list)


def constant_of(value: Any) -> Any:
    if isinstance(value, dict):
        return value["$literal"]
    return value


def literal(value: Any) -> Any:
    """A Python value as an MQL expression that evaluates to exactly that value."""
    if isinstance(value, str) and value.startswith("$"):
        return {"$literal": value}
    if isinstance(value, dict | list):
        return {"$literal": value}
    return value


def projected(value: Any) -> Any:
    """A value for a $project field: bare numbers and booleans there mean include/exclude,
    so constants are wrapped in $literal (and so is "", which engines read as falsy)."""
    if isinstance(value, bool | int | float) or value is None or value == "":
        return {"$literal": value}
    return value


def path_expr(path: Path, root: str = "$") -> Any:
    """An aggregation expression reading `path` (fields and array indexes) from `root`
    ("$" for the current document, "$$v" for a variable)."""
    expr: Any = None
    fields: list[str] = []
    for part in path:
        if isinstance(part, int):
            base = _field_ref(root, fields) if expr is None else _let_path(expr, fields)
            expr = {"$arrayElemAt": [base, part]}
            fields = []
        else:
            fields.append(part)
    if expr is None:
        return _field_ref(root, fields)
    return _let_path(expr, fields) if fields else expr


def _field_ref(root: str, fields: list[str]) -> str:
    if not fields:
        return "$$ROOT" if root == "$" else root
    if root == "$":
        return "$" + ".".join(fields)
    return root + "." + ".".join(fields)


def _let_path(expr: Any, fields: list[str]) -> Any:
    if not fields:
        return expr
    return {"$let": {"vars": {"elem": expr}, "in": "$$elem." + ".".join(fields)}}


def is_null(x: Any) -> Any:
    """True when x is null or missing (missing sorts below null in aggregation)."""
    if is_constant(x):
        return constant_of(x) is None
    return {"$lte": [x, None]}


def not_null(x: Any) -> Any:
    if is_constant(x):
        return constant_of(x) is not None
    return {"$gt": [x, None]}


def and_(*parts: Any) -> Any:
    kept = []
    for part in parts:
        if part is True:
            continue
        if part is False:
            return False
        kept.append(part)
    if not kept:
        return True
    return kept[0] if len(kept) == 1 else {"$and": kept}


def or_(*parts: Any) -> Any:
    kept = []
    for part in parts:
        if part is False:
            continue
        if part is True:
            return True
        kept.append(part)
    if not kept:
        return False
    return kept[0] if len(kept) == 1 else {"$or": kept}


def not_(x: Any) -> Any:
    if x is True or x is False:
        return not x
    return {"$not": [x]}


def cond(test: Any, then: Any, otherwise: Any) -> Any:
    if test is True:
        return then
    if test is False:
        return otherwise
    return {"$cond": [test, then, otherwise]}


def null_guard(args: list[Any], expr: Any) -> Any:
    """`expr`, or null when any of `args` is null: SQL functions return NULL on NULL input
    where several MongoDB operators return "" or raise."""
    return cond(or_(*[is_null(a) for a in args]), None, expr)


def type_name_of(value: Any) -> str | None:
    """MongoDB's $type alias for a constant, for cross-type bracketing guards."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dt.datetime):
        return "date"
    if isinstance(value, ObjectId):
        return "objectId"
    return None


def type_guard(x: Any, const: Any) -> Any:
    """True when x has the same comparison bracket as the constant."""
    name = type_name_of(const)
    if name is None:
        return True
    if name == "number":
        return {"$isNumber": x}
    return {"$eq": [{"$type": x}, name]}


def same_bracket(a: Any, b: Any) -> Any:
    """True when a and b can be compared in SQL terms: both numbers or the same BSON type."""
    if is_constant(b):
        return type_guard(a, constant_of(b))
    if is_constant(a):
        return type_guard(b, constant_of(a))
    return {
        "$or": [
            {"$and": [{"$isNumber": a}, {"$isNumber": b}]},
            {"$eq": [{"$type": a}, {"$type": b}]},
        ]
    }
