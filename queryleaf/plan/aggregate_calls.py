"""Which calls are group aggregates: the five built-in ones and those of the aggregate function
library (queryleaf.plan.aggregate_functions). Kept apart from both the expression compiler and
the library's builders, so each can ask without importing the other."""

from __future__ import annotations

from sqlglot import exp

BUILT_IN = (exp.Count, exp.Sum, exp.Avg, exp.Min, exp.Max)
# The library's aggregates: sqlglot node classes, and names sqlglot leaves anonymous.
LIBRARY_CLASSES: frozenset[type] = frozenset({exp.GroupConcat, exp.ArrayAgg, exp.JSONObjectAgg})
LIBRARY_NAMES = frozenset({"JSON_ARRAYAGG", "JSON_AGG", "JSON_OBJECT_AGG"})


def is_library_aggregate(node: exp.Expression) -> bool:
    if type(node) in LIBRARY_CLASSES:
        return True
    return isinstance(node, exp.Anonymous) and node.name.upper() in LIBRARY_NAMES


def is_aggregate(node: exp.Expression) -> bool:
    """A group aggregate: the built-in ones and those of the aggregate function library."""
    return isinstance(node, BUILT_IN) or is_library_aggregate(node)


# Every node class `is_aggregate` can accept: a tree without any (sqlglot's compiled `find`)
# holds no aggregate, whatever windows and subqueries it has.
_CANDIDATES = (*BUILT_IN, *LIBRARY_CLASSES, exp.Anonymous)


def contains_aggregate(node: exp.Expression) -> bool:
    """True when `node` holds a group aggregate. The function of a window (SUM(x) OVER ...)
    is not one, but its arguments, PARTITION BY and ORDER BY may hold some."""
    if node.find(*_CANDIDATES) is None:
        return False
    return _contains_aggregate(node)


def _contains_aggregate(node: exp.Expression) -> bool:
    if isinstance(node, exp.Window):
        function = node.this
        parts = [*function.iter_expressions()] if function is not None else []
        parts += [p for p in node.args.get("partition_by") or []]
        if node.args.get("order") is not None:
            parts.append(node.args["order"])
        return any(_contains_aggregate(p) for p in parts)
    if is_aggregate(node):
        return True
    if isinstance(node, exp.Subquery | exp.Select):
        return False
    return any(_contains_aggregate(child) for child in node.iter_expressions())
