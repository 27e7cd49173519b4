"""Small MQL builders for window functions: sort and partition keys, window bounds, the
`$setWindowFields` stage, NTILE's bucket arithmetic and constant arguments."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from queryleaf.errors import SemanticError
from queryleaf.plan import mql
from queryleaf.plan.expressions import ExprCompiler
from queryleaf.plan.literals import NotConstant, constant_value
from queryleaf.plan.window_specs import Frame, OrderKey


def field_path(value: Any) -> str | None:
    """The path a sortBy can name for an MQL value that is a plain field reference."""
    if isinstance(value, str) and value.startswith("$") and not value.startswith("$$"):
        return value[1:]
    return None


def not_missing(value: Any) -> Any:
    """Missing reads as null (in a partitioning document a missing field would otherwise
    make its own partition)."""
    if mql.is_constant(value):
        return value
    return {"$ifNull": [value, None]}


def range_key(key: OrderKey, frame: Frame) -> Any:
    """The sort key of a RANGE frame with offsets: MongoDB wants one ascending numeric key, so
    a descending key is negated and a date becomes milliseconds; NULL becomes -Infinity
    (+Infinity descending) so that NULLs sort where MySQL puts them and each NULL's frame
    holds exactly the NULLs (x PRECEDING of -Infinity is -Infinity)."""
    value = key.value
    if frame.interval:
        value = {"$toLong": value}
    if key.desc:
        value = {"$multiply": [value, -1]}
    return {"$ifNull": [value, float("inf") if key.desc else float("-inf")]}


def document_bound(bound: Any) -> Any:
    if bound is None:
        return "unbounded"
    return "current" if bound == 0 else bound


def range_bound(bound: Any) -> Any:
    return "unbounded" if bound is None else bound  # 0 is the current row and its peers


def partition_by(partition: list[Any]) -> Any:
    if not partition:
        return None
    if len(partition) == 1:
        return partition[0]
    return {f"p{i}": not_missing(value) for i, value in enumerate(partition)}


def peer_partition(partition: list[Any], keys: list[Any]) -> Any:
    document = {f"p{i}": not_missing(value) for i, value in enumerate(partition)}
    document.update({f"k{i}": key for i, key in enumerate(keys)})
    return document


# Window operators whose documented use needs sortBy (MongoDB's $setWindowFields rules), and
# every output with a bounded `documents` window or a `range` window.
SORT_REQUIRED = frozenset({"$rank", "$denseRank", "$documentNumber", "$shift", "$first", "$last",
                           "$derivative", "$integral", "$expMovingAvg", "$linearFill"})  # fmt: skip


def needs_sort_by(output: dict[str, Any]) -> bool:
    """Whether any output of a $setWindowFields needs sortBy by MongoDB's documented rules."""
    for spec in output.values():
        if SORT_REQUIRED & set(spec):
            return True
        window = spec.get("window") or {}
        if "range" in window or window.get("documents", ["unbounded"] * 2) != ["unbounded"] * 2:
            return True
    return False


def set_window_fields(partition: Any, sort: dict[str, int], output: dict[str, Any]) -> dict:
    if not sort and needs_sort_by(output):
        sort = {"_id": 1}  # no ORDER BY: any order is SQL's, but the operator needs one
    spec: dict[str, Any] = {}
    if partition is not None:
        spec["partitionBy"] = partition
    if sort:
        spec["sortBy"] = dict(sort)
    spec["output"] = dict(output)
    return {"$setWindowFields": spec}


def ntile(rn: str, n: str, buckets: int) -> Any:
    """NTILE(b): rows 1..N in b buckets whose sizes differ by at most one, larger first."""
    size = {"$floor": {"$divide": ["$$n", buckets]}}  # q: the smaller bucket size
    rest = {"$mod": ["$$n", buckets]}  # r: how many buckets hold q + 1 rows
    big = {"$multiply": ["$$r", {"$add": ["$$q", 1]}]}  # rows in the larger buckets
    in_big = {
        "$add": [{"$floor": {"$divide": [{"$subtract": ["$$i", 1]}, {"$add": ["$$q", 1]}]}}, 1]
    }
    in_small = {
        "$add": [
            "$$r",
            {
                "$floor": {
                    "$divide": [
                        {"$subtract": [{"$subtract": ["$$i", 1]}, "$$big"]},
                        {"$max": ["$$q", 1]},
                    ]
                }
            },
            1,
        ]
    }
    body = {"$cond": [{"$lte": ["$$i", "$$big"]}, in_big, in_small]}
    return {
        "$toInt": {
            "$let": {
                "vars": {"n": n, "i": rn},
                "in": {
                    "$let": {
                        "vars": {"q": size, "r": rest},
                        "in": {"$let": {"vars": {"big": big}, "in": body}},
                    }
                },
            }
        }
    }


def non_negative_integer(node: exp.Expression, name: str, compiler: ExprCompiler) -> int:
    return integer(node, name, compiler, minimum=0)


def positive_integer(node: exp.Expression | None, name: str, compiler: ExprCompiler) -> int:
    return integer(node, name, compiler, minimum=1)


def integer(node: exp.Expression | None, name: str, compiler: ExprCompiler, minimum: int) -> int:
    try:
        value = constant_value(node, compiler.bindings) if node is not None else None
    except NotConstant:
        value = None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        what = "a positive" if minimum > 0 else "a non-negative"
        raise SemanticError(
            f"{name} takes {what} integer constant here",
            node=node,
            hint="write a number or bind an integer parameter",
            code="QL304",
        )
    return value
