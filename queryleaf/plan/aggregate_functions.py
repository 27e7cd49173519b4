"""The aggregate function library beyond COUNT/SUM/AVG/MIN/MAX (GROUP_CONCAT,
JSON_ARRAYAGG, JSON_OBJECTAGG, ...). Each builder gets the Grouping (to register
accumulators with `grouping.accumulate(spec, empty_value)` and translate arguments with
`grouping.pre`) and returns the MQL expression of the final value over the group's output."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from queryleaf.errors import SemanticError, UnsupportedError
from queryleaf.plan import mql
from queryleaf.plan.aggregate_calls import LIBRARY_CLASSES, LIBRARY_NAMES, contains_aggregate
from queryleaf.plan.function_registry import as_string
from queryleaf.plan.literals import NotConstant, constant_value
from queryleaf.plan.value_text import text_of

if TYPE_CHECKING:
    from queryleaf.plan.aggregates import Grouping


Builder = Callable[["Grouping", exp.Expression], Any]

# sqlglot node classes and, for functions sqlglot leaves anonymous, upper-case names.
BY_CLASS: dict[type, Builder] = {}
BY_NAME: dict[str, Builder] = {}


# -- helpers -----------------------------------------------------------------------------------


def _constant(grouping: Grouping, node: exp.Expression) -> Any:
    try:
        return constant_value(node, grouping.bindings)
    except NotConstant:
        return NotConstant


def _check_plain(grouping: Grouping, nodes: list[exp.Expression], owner: exp.Expression) -> None:
    for node in nodes:
        if contains_aggregate(node):
            raise SemanticError("aggregates cannot be nested", node=owner, code="QL305")


def _unpack(node: exp.Expression | None) -> tuple[Any, list[exp.Ordered], Any, bool]:
    """(argument, ORDER BY keys, LIMIT node, DISTINCT) of `f(DISTINCT x ORDER BY ... LIMIT n)`."""
    limit = None
    order: list[exp.Ordered] = []
    if isinstance(node, exp.Limit):
        limit = node.expression
        node = node.this
    if isinstance(node, exp.Order):
        order = list(node.expressions)
        node = node.this
    distinct = isinstance(node, exp.Distinct)
    if distinct:
        node = node.expressions
    return node, order, limit, distinct


def _limit_of(
    grouping: Grouping, limit: exp.Expression | None, owner: exp.Expression
) -> int | None:
    if limit is None:
        return None
    value = _constant(grouping, limit)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SemanticError(
            f"{owner.sql('mysql')}: LIMIT takes a positive integer constant",
            node=limit,
            code="QL304",
        )
    return value


def _sort_spec(order: list[exp.Ordered]) -> dict[str, int]:
    return {f"k{i}": -1 if key.args.get("desc") else 1 for i, key in enumerate(order)}


def _pairs(grouping: Grouping, value: Any, order: list[exp.Ordered]) -> dict[str, Any]:
    """The document pushed per row when the values are ordered: the value and its sort keys
    (missing becomes null, which sorts first ascending and last descending, as in MySQL)."""
    pair: dict[str, Any] = {"v": {"$ifNull": [value, None]}}
    for i, key in enumerate(order):
        key_value = grouping.pre.value(key.this)
        pair[f"k{i}"] = key_value if mql.is_constant(key_value) else {"$ifNull": [key_value, None]}
    return pair


def _sorted_values(pushed: str, order: list[exp.Ordered]) -> Any:
    """The pushed {v, k0, ...} documents in ORDER BY order, as the list of their values."""
    ordered = {"$sortArray": {"input": pushed, "sortBy": _sort_spec(order)}}
    return {"$map": {"input": ordered, "as": "qp", "in": "$$qp.v"}}


def _or_null_when_empty(values: Any) -> Any:
    return {
        "$let": {
            "vars": {"qa": values},
            "in": {"$cond": [{"$eq": [{"$size": "$$qa"}, 0]}, None, "$$qa"]},
        }
    }


def _first_occurrences(values: Any) -> Any:
    """The values without repeats, each kept where it first appears."""
    return {
        "$reduce": {
            "input": values,
            "initialValue": [],
            "in": {
                "$cond": [
                    {"$in": ["$$this", "$$value"]},
                    "$$value",
                    {"$concatArrays": ["$$value", ["$$this"]]},
                ]
            },
        }
    }


# -- GROUP_CONCAT ------------------------------------------------------------------------------


def _group_concat(grouping: Grouping, node: exp.Expression) -> Any:
    """GROUP_CONCAT([DISTINCT] x [ORDER BY ...] [SEPARATOR s]): the non-NULL values as text,
    joined with s (default ','); NULL when there are none. Without ORDER BY, DISTINCT values
    come out sorted and the others in the order the group met them."""
    argument, order, limit, distinct = _unpack(node.this)
    if limit is not None:
        raise UnsupportedError("GROUP_CONCAT does not take LIMIT", node=node, code="QL201")
    parts = argument if isinstance(argument, list) else [argument]
    _check_plain(grouping, parts + [key.this for key in order], node)
    separator_node = node.args.get("separator")
    separator = "," if separator_node is None else _constant(grouping, separator_node)
    if separator is None:
        return None
    if not isinstance(separator, str):
        raise UnsupportedError(
            "GROUP_CONCAT needs a constant string SEPARATOR", node=separator_node, code="QL201"
        )
    # Values are gathered as they are (numbers sort as numbers, `1` and `1.0` are one
    # DISTINCT value) and written as text, as MySQL prints them, only when joined.
    if len(parts) == 1:
        value = grouping.pre.value(parts[0])
    else:  # GROUP_CONCAT(DISTINCT a, b): the CONCAT of the arguments
        value = {"$concat": [text_of(grouping.pre.value(part)) for part in parts]}
    present = {"$ne": ["$$qv", None]}
    if not order:
        operator = "$addToSet" if distinct else "$push"
        values: Any = {
            "$filter": {
                "input": grouping.accumulate({operator: value}, []),
                "as": "qv",
                "cond": present,
            }
        }
        if distinct:
            values = {"$sortArray": {"input": values, "sortBy": 1}}
    else:
        same_as_value = len(parts) == 1 and all(key.this == parts[0] for key in order)
        if distinct and same_as_value:
            distinct_values = grouping.accumulate({"$addToSet": value}, [])
            values = {
                "$sortArray": {
                    "input": {"$filter": {"input": distinct_values, "as": "qv", "cond": present}},
                    "sortBy": -1 if order[0].args.get("desc") else 1,
                }
            }
        else:
            pushed = grouping.accumulate({"$push": _pairs(grouping, value, order)}, [])
            kept = {"$filter": {"input": pushed, "as": "qv", "cond": {"$ne": ["$$qv.v", None]}}}
            values = _sorted_values(kept, order)
            if distinct:
                values = _first_occurrences(values)
    values = {"$map": {"input": values, "as": "qt", "in": text_of("$$qt")}}
    return {
        "$reduce": {
            "input": values,
            "initialValue": None,
            "in": {
                "$cond": [
                    {"$eq": ["$$value", None]},
                    "$$this",
                    {"$concat": ["$$value", mql.literal(separator), "$$this"]},
                ]
            },
        }
    }


# -- JSON_ARRAYAGG -----------------------------------------------------------------------------


def _json_arrayagg(grouping: Grouping, node: exp.Expression) -> Any:
    """JSON_ARRAYAGG(x [ORDER BY ...] [LIMIT n]): the values as an array, NULLs included;
    NULL over no rows. LIMIT is a queryleaf extension: the first n values (in ORDER BY order
    when given). ARRAY_AGG and JSON_AGG are the PostgreSQL spellings."""
    arguments = node.expressions if isinstance(node, exp.Anonymous) else [node.this]
    if len(arguments) != 1 or arguments[0] is None:
        raise SemanticError(f"{_name(node)} takes one argument", node=node, code="QL304")
    argument, order, limit_node, distinct = _unpack(arguments[0])
    if distinct:
        raise UnsupportedError(
            f"{_name(node)}(DISTINCT ...) is not supported", node=node, code="QL201"
        )
    _check_plain(grouping, [argument] + [key.this for key in order], node)
    limit = _limit_of(grouping, limit_node, node)
    value = grouping.pre.value(argument)
    if not order:
        if limit is not None:
            return _or_null_when_empty(
                grouping.accumulate({"$firstN": {"input": value, "n": limit}}, [])
            )
        kept = value if mql.is_constant(value) else {"$ifNull": [value, None]}
        return _or_null_when_empty(grouping.accumulate({"$push": kept}, []))
    pushed = grouping.accumulate({"$push": _pairs(grouping, value, order)}, [])
    values = _sorted_values(pushed, order)
    if limit is not None:
        values = {"$slice": [values, limit]}
    return _or_null_when_empty(values)


def _name(node: exp.Expression) -> str:
    return node.name.upper() if isinstance(node, exp.Anonymous) else node.sql_name()


# -- JSON_OBJECTAGG ----------------------------------------------------------------------------


def _json_objectagg(grouping: Grouping, node: exp.Expression) -> Any:
    """JSON_OBJECTAGG(k, v): a document of the rows' k -> v (keys as text; a repeated key
    keeps its last value); rows with a NULL key are skipped; NULL over no rows."""
    if isinstance(node, exp.Anonymous):
        if len(node.expressions) != 2:
            raise SemanticError(f"{_name(node)} takes two arguments", node=node, code="QL304")
        key_node, value_node = node.expressions
    else:
        pairs = node.expressions
        if len(pairs) != 1 or not isinstance(pairs[0], exp.JSONKeyValue):
            raise SemanticError("JSON_OBJECTAGG takes two arguments", node=node, code="QL304")
        key_node, value_node = pairs[0].this, pairs[0].expression
    _check_plain(grouping, [key_node, value_node], node)
    key = as_string(grouping.pre.value(key_node))
    value = grouping.pre.value(value_node)
    entry = {"k": key, "v": value if mql.is_constant(value) else {"$ifNull": [value, None]}}
    pushed = grouping.accumulate({"$push": entry}, [])
    kept = {"$filter": {"input": pushed, "as": "qe", "cond": {"$gt": ["$$qe.k", None]}}}
    return {
        "$let": {
            "vars": {"qa": kept},
            "in": {"$cond": [{"$eq": [{"$size": "$$qa"}, 0]}, None, {"$arrayToObject": ["$$qa"]}]},
        }
    }


BY_CLASS.update(
    {
        exp.GroupConcat: _group_concat,
        exp.ArrayAgg: _json_arrayagg,
        exp.JSONObjectAgg: _json_objectagg,
    }
)
BY_NAME.update(
    {
        "JSON_ARRAYAGG": _json_arrayagg,
        "JSON_AGG": _json_arrayagg,
        "JSON_OBJECT_AGG": _json_objectagg,
    }
)


# aggregate_calls names the library's aggregates for the expression compiler.
assert set(BY_CLASS) == LIBRARY_CLASSES and set(BY_NAME) == LIBRARY_NAMES


def library_aggregate(grouping: Grouping, node: exp.Expression) -> Any:
    builder = BY_CLASS.get(type(node))
    if builder is None and isinstance(node, exp.Anonymous):
        builder = BY_NAME.get(node.name.upper())
    if builder is None:
        raise UnsupportedError(
            f"aggregate {node.sql('mysql')} is not supported", node=node, code="QL201"
        )
    return builder(grouping, node)
