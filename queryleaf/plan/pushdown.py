"""Filters moved ahead of a `$group` when they read only its keys.

A join to a grouped relation (a CTE or derived table with GROUP BY) runs the relation's
pipeline inside `$lookup` once per outer row, then keeps the groups whose key matches the
outer row. Every document of a group shares its key, so testing the key before grouping keeps
exactly the same groups while grouping only the matching documents: the per-row cost falls
from the whole collection to one key's documents, and MongoDB can use an index on the key.
"""

from __future__ import annotations

from typing import Any

# Operators whose result is the same for every key value one $group merges (values equal by
# BSON comparison, such as 1, 1.0 and NumberDecimal("1.00")): comparisons and logic, not
# conversions or type tests ($toString, $type, arithmetic ... could split a group).
SAME_FOR_A_GROUP = frozenset({
    "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$and", "$or", "$not", "$ifNull",
    "$cond", "$isNumber",
})  # fmt: skip


def filter_before_group(pipeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`[..., $group, $project, $match]` with a `$match` on keys only becomes
    `[..., $match', $group, $project]`; any other pipeline is returned unchanged."""
    if len(pipeline) < 3:
        return pipeline
    group, project, match = (stage.get(name) for stage, name in zip(
        pipeline[-3:], ("$group", "$project", "$match"), strict=True
    ))  # fmt: skip
    if not (isinstance(group, dict) and isinstance(project, dict) and isinstance(match, dict)):
        return pipeline
    if list(match) != ["$expr"]:
        return pipeline
    keys = _key_sources(group.get("_id"), project)
    if not keys:
        return pipeline
    rewritten = _substitute(match["$expr"], keys)
    if rewritten is None:
        return pipeline
    rewritten = _indexable(rewritten)
    return [*pipeline[:-3], {"$match": {"$expr": rewritten}}, pipeline[-3], pipeline[-2]]


def _key_sources(key: Any, project: dict[str, Any]) -> dict[str, Any]:
    """Output column -> the expression of the group key it renames (as the key was built,
    so that missing and null fields behave the same before and after the group)."""
    parts: dict[str, Any] = {}
    if isinstance(key, str) and key.startswith("$") and not key.startswith("$$"):
        parts["$_id"] = {"$ifNull": [key, None]}  # a missing key groups (and reads) as null
    elif isinstance(key, dict):
        for name, expression in key.items():
            if _plain_expression(expression):
                parts[f"$_id.{name}"] = expression
    sources = {}
    for column, value in project.items():
        if isinstance(value, str) and value in parts and "." not in column:
            sources[f"${column}"] = parts[value]
    return sources


def _plain_expression(expression: Any) -> bool:
    """A key computed from the document's own fields (no variables such as $$NOW)."""
    if isinstance(expression, str):
        return not expression.startswith("$$")
    if isinstance(expression, dict):
        return all(_plain_expression(v) for v in expression.values())
    if isinstance(expression, list):
        return all(_plain_expression(v) for v in expression)
    return True


def _substitute(expression: Any, keys: dict[str, Any]) -> Any:
    """The expression with key columns replaced by their sources; None when it reads any
    other field of the grouped rows (an aggregate, which does not exist before the group)."""
    if isinstance(expression, str):
        if expression.startswith("$$") or not expression.startswith("$"):
            return expression  # a variable (the outer row's value) or a literal string
        return keys.get(expression)
    if isinstance(expression, list):
        items = [_substitute(v, keys) for v in expression]
        pairs = zip(items, expression, strict=True)
        return None if any(i is None and v is not None for i, v in pairs) else items
    if isinstance(expression, dict):
        if "$literal" in expression:
            return expression
        if any(name.startswith("$") and name not in SAME_FOR_A_GROUP for name in expression):
            return None  # it could tell apart key values one group holds (1 and 1.0)
        out = {}
        for name, value in expression.items():
            replaced = _substitute(value, keys)
            if replaced is None and value is not None:
                return None
            out[name] = replaced
        return out
    return expression


def _indexable(expression: Any) -> Any:
    """Inside an `$and` that also requires `$$v > null`, `{$eq: [$$v, {$ifNull: [path, null]}]}`
    is `{$eq: [$$v, path]}` (a missing or null field equals no such value), which MongoDB can
    answer from an index on the path."""
    if not isinstance(expression, dict) or list(expression) != ["$and"]:
        return expression
    conjuncts = expression["$and"]
    known = {
        c["$gt"][0]
        for c in conjuncts
        if isinstance(c, dict) and list(c) == ["$gt"] and c["$gt"][1] is None
        and isinstance(c["$gt"][0], str) and c["$gt"][0].startswith("$$")
    }  # fmt: skip
    out = []
    for conjunct in conjuncts:
        pair = conjunct.get("$eq") if isinstance(conjunct, dict) and len(conjunct) == 1 else None
        if isinstance(pair, list) and len(pair) == 2:
            sides = [_unwrapped(side) if _known(other, known) else side
                     for side, other in ((pair[0], pair[1]), (pair[1], pair[0]))]  # fmt: skip
            conjunct = {"$eq": sides}
        out.append(conjunct)
    return {"$and": out}


def _known(value: Any, known: set[str]) -> bool:
    return isinstance(value, str) and value in known


def _unwrapped(value: Any) -> Any:
    """`{$ifNull: [path, null]}` as `path`; anything else as it is."""
    if isinstance(value, dict) and list(value) == ["$ifNull"] and len(value["$ifNull"]) == 2:
        inner, fallback = value["$ifNull"]
        if fallback is None and isinstance(inner, str):
            return inner
    return value


def filters_before_projections(pipeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A plain-query `$match` right after a `$project` that only renames fields (a derived
    table's or a CTE's select list) moves before it, on the source names: the filter then
    reads the collection's own fields, where an index can serve it."""
    stages = list(pipeline)
    position = 1
    while position < len(stages):
        project, match = stages[position - 1], stages[position]
        if list(project) == ["$project"] and list(match) == ["$match"]:
            moved = _renamed_query(match["$match"], _renames(project["$project"]))
            if moved is not None:
                stages[position - 1 : position + 1] = [{"$match": moved}, project]
                position = max(1, position - 1)
                continue
        position += 1
    return stages


def _renames(project: Any) -> dict[str, str]:
    """Output field -> source field, for the projection's plain renames of top-level
    fields (`y: "$x"`)."""
    if not isinstance(project, dict):
        return {}
    return {
        name: value[1:]
        for name, value in project.items()
        if isinstance(value, str)
        and value.startswith("$")
        and not value.startswith("$$")
        and "." not in value
        and "." not in name
    }


def _renamed_query(query: Any, renames: dict[str, str]) -> dict[str, Any] | None:
    """The query on the source names, or None when it reads anything else."""
    if not isinstance(query, dict) or not query:
        return None
    out: dict[str, Any] = {}
    for key, condition in query.items():
        if key in ("$and", "$or", "$nor"):
            if not isinstance(condition, list):
                return None
            parts = [_renamed_query(part, renames) for part in condition]
            if any(part is None for part in parts):
                return None
            out[key] = parts
            continue
        head, dot, rest = key.partition(".")
        if head.startswith("$") or head not in renames or _mentions_expression(condition):
            return None
        out[renames[head] + dot + rest] = condition
    return out


def _mentions_expression(condition: Any) -> bool:
    """Conditions holding `$expr` or `$where` (their field references are not renamed)."""
    if isinstance(condition, dict):
        return any(
            key in ("$expr", "$where") or _mentions_expression(value)
            for key, value in condition.items()
        )
    if isinstance(condition, list):
        return any(_mentions_expression(item) for item in condition)
    return False
