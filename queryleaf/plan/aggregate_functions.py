"""The aggregate function library beyond COUNT/SUM/AVG/MIN/MAX (GROUP_CONCAT,
JSON_ARRAYAGG, JSON_OBJECTAGG, ...). Each builder gets the Grouping (to register
accumulators with `grouping.accumulate(spec, empty_value)` and translate arguments with
`grouping.pre`) and returns the MQL expression of the final value over the group's output."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from queryleaf.errors import UnsupportedError

if TYPE_CHECKING:
    from queryleaf.plan.aggregates import Grouping

Builder = Callable[["Grouping", exp.Expression], Any]

# sqlglot node classes and, for functions sqlglot leaves anonymous, upper-case names.
BY_CLASS: dict[type, Builder] = {}
BY_NAME: dict[str, Builder] = {}


def is_library_aggregate(node: exp.Expression) -> bool:
    if type(node) in BY_CLASS:
        return True
    return isinstance(node, exp.Anonymous) and node.name.upper() in BY_NAME


def library_aggregate(grouping: Grouping, node: exp.Expression) -> Any:
    builder = BY_CLASS.get(type(node))
    if builder is None and isinstance(node, exp.Anonymous):
        builder = BY_NAME.get(node.name.upper())
    if builder is None:
        raise UnsupportedError(
            f"aggregate {node.sql('mysql')} is not supported", node=node, code="QL201"
        )
    return builder(grouping, node)
