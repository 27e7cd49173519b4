"""NULLS FIRST / NULLS LAST in ORDER BY.

MongoDB's `$sort` puts null and missing values first ascending and last descending, which is
MySQL's order. Another placement (`ORDER BY x NULLS LAST`, or PostgreSQL's default with the
PostgreSQL dialect) sorts first on a hidden flag that is 1 for NULL, then on the value:
`{$set: {__nulls0: {$cond: [{$lte: ["$x", null]}, 1, 0]}}}, {$sort: {__nulls0: 1, x: 1}}`,
and unsets the flag after the sort.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

FLAG_PREFIX = "__nulls"


def nulls_first_wanted(ordered: exp.Ordered) -> bool | None:
    """True/False when the ORDER BY key wants NULLs placed other than MongoDB's `$sort` puts
    them (first ascending, last descending): whether they go first; None when $sort is right."""
    nulls_first = ordered.args.get("nulls_first")
    desc = bool(ordered.args.get("desc"))
    if nulls_first is None or bool(nulls_first) != desc:
        return None
    return bool(nulls_first)


def sort_stages(sort: dict[str, int], nulls: dict[str, bool]) -> tuple[list[Any], list[str]]:
    """The stages that sort by `sort` (field: direction) with NULLs of the `nulls` fields
    placed as asked (field: NULLs first), and the hidden flag fields to unset afterwards."""
    if not sort:
        return [], []
    if not nulls:
        return [{"$sort": sort}], []
    flags: dict[str, Any] = {}
    ordered: dict[str, int] = {}
    for field, direction in sort.items():
        if field in nulls:
            flag = f"{FLAG_PREFIX}{len(flags)}"
            flags[flag] = {"$cond": [{"$lte": ["$" + field, None]}, 1, 0]}
            ordered[flag] = -1 if nulls[field] else 1
        ordered[field] = direction
    return [{"$set": flags}, {"$sort": ordered}], list(flags)
