"""EXPLAIN's index notes: for each predicate of the filter a command starts with (the find
filter, the leading `$match` stages of a pipeline, and the leading `$match` of each `$lookup`
sub-pipeline), whether an index can serve it and which existing index would (listIndexes).

A predicate is index-usable when it is a plain query operator on a field (equality, ranges,
`$in`, an anchored case-sensitive `$regex`, `null`); `$ne`, `$nin` and `$not` can use an
index but select little; `$expr` and other expressions are evaluated per document.
"""

from __future__ import annotations

import re
from typing import Any

from queryleaf.plan.plans import Plan

# Operators that select little even through an index.
_WEAK = {"$ne", "$nin", "$not"}
_EXPRESSIONS = {"$expr", "$where", "$function", "$jsonSchema", "$text"}


def index_notes(plan: Plan, db: Any) -> list[str]:
    """One note per predicate (empty for commands without filters)."""
    notes: list[str] = []
    indexes: dict[str, list[tuple[str, list[str]]] | None] = {}
    for collection, query, via in _filters(plan.command):
        if collection not in indexes:
            indexes[collection] = _index_keys(db, collection)
        keys = indexes[collection]
        where = f"{collection}" + (f" ({via})" if via else "")
        for text in _describe(query, keys):
            notes.append(f"index use on {where}: {text}")
    return notes


def _filters(command: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    """(collection, query, where it is) for every filter a command starts with."""
    found: list[tuple[str, dict[str, Any], str]] = []
    if "find" in command:
        if command.get("filter"):
            found.append((command["find"], command["filter"], ""))
        return found
    if "aggregate" not in command:
        for kind, key in (("update", "updates"), ("delete", "deletes")):
            if kind in command:
                for statement in command[key]:
                    if statement.get("q"):
                        found.append((command[kind], statement["q"], ""))
        return found
    target = command["aggregate"]
    pipeline = command.get("pipeline") or []
    if isinstance(target, str):
        query = _leading_query(pipeline)
        if query:
            found.append((target, query, ""))
    _lookups(pipeline, found)
    return found


def _leading_query(pipeline: list[Any]) -> dict[str, Any]:
    parts = []
    for stage in pipeline:
        if not isinstance(stage, dict) or list(stage) != ["$match"]:
            break
        parts.append(stage["$match"])
    if len(parts) == 1:
        return parts[0]
    return {"$and": parts} if parts else {}


def _lookups(pipeline: list[Any], found: list[tuple[str, dict[str, Any], str]]) -> None:
    for stage in pipeline:
        if not isinstance(stage, dict):
            continue
        for name, spec in stage.items():
            if name == "$lookup" and isinstance(spec, dict) and "from" in spec:
                via = f"joined as {spec.get('as')}"
                if spec.get("foreignField"):
                    found.append((spec["from"], {spec["foreignField"]: {"$eq": "<each row>"}}, via))
                query = _leading_query(spec.get("pipeline") or [])
                if query:
                    found.append((spec["from"], query, via))
                _lookups(spec.get("pipeline") or [], found)
            elif name == "$unionWith" and isinstance(spec, dict):
                query = _leading_query(spec.get("pipeline") or [])
                if query and spec.get("coll"):
                    found.append((spec["coll"], query, "union"))
            elif name == "$facet" and isinstance(spec, dict):
                for branch in spec.values():
                    if isinstance(branch, list):
                        _lookups(branch, found)


Keys = list[tuple[str, list[tuple[str, Any]]]]  # (index name, [(field, 1 | -1 | "hashed" ...)])


def _index_keys(db: Any, collection: str) -> Keys | None:
    try:
        return [
            (index["name"], list(dict(index["key"]).items()))
            for index in db[collection].list_indexes()
        ]
    except Exception:  # a view, a refusal: no index list
        return None


def _describe(query: dict[str, Any], keys: Keys | None) -> list[str]:
    equalities = {field for field, condition in query.items() if _is_equality(condition)}
    lines = []
    for field, condition in query.items():
        if field == "$and" and isinstance(condition, list):
            for part in condition:
                if isinstance(part, dict):
                    lines.extend(_describe(part, keys))
            continue
        if field == "$or" and isinstance(condition, list):
            branches = [_usable(part) for part in condition if isinstance(part, dict)]
            fields = sorted({f for part in condition if isinstance(part, dict) for f in part})
            if all(fields_ok for fields_ok, _ in branches):
                served = [
                    _serving(f, keys, set(), _equal_in_every(f, condition))
                    for f in fields
                    if not f.startswith("$")
                ]
                lines.append(
                    f"OR on {', '.join(fields)}: can use indexes when every branch has one"
                    + ("" if all(served) else f" ({_missing(fields, served)})")
                )
            else:
                lines.append(f"OR on {', '.join(fields)}: cannot use an index (a branch is an "
                             "expression)")  # fmt: skip
            continue
        if field in _EXPRESSIONS or field.startswith("$"):
            lines.append(f"{field}: cannot use an index (evaluated for each document)")
            continue
        operators = sorted(condition) if _is_operator_document(condition) else ["$eq"]
        label = f"{field} ({', '.join(operators)})"
        if _regex_unanchored(condition):
            lines.append(f"{label}: scans the whole index (the pattern has no fixed prefix)")
            continue
        if _regex_case_insensitive(condition):
            lines.append(f"{label}: scans the whole index (a case-insensitive pattern)")
            continue
        index = _serving(field, keys, equalities - {field}, field in equalities)
        weak = " but selects little" if set(operators) & _WEAK else ""
        if index:
            lines.append(f"{label}: index-usable{weak}, served by index {index}")
        elif keys is None:
            lines.append(f"{label}: index-usable{weak} (indexes unknown)")
        else:
            lines.append(f"{label}: index-usable{weak}, no index on {field}")
    return lines


def _missing(fields: list[str], served: list[str | None]) -> str:
    names = [f for f, index in zip(fields, served, strict=False) if not index]
    return "no index on " + ", ".join(names)


def _usable(query: dict[str, Any]) -> tuple[bool, list[str]]:
    for field in query:
        if field in _EXPRESSIONS or (field.startswith("$") and field not in ("$and", "$or")):
            return False, []
    return True, list(query)


def _serving(field: str, keys: Keys | None, equalities: set[str], equality: bool) -> str | None:
    """The name of an index whose keys start with `field`, or with equality-matched fields
    and then `field`. A hashed key serves only equality; text and geo keys serve neither."""
    for index_name, key in keys or []:
        for name, kind in key:
            usable = kind in (1, -1) or (kind == "hashed" and (equality or name != field))
            if not usable:
                break
            if name == field:
                return index_name
            if name not in equalities:
                break
    return None


def _equal_in_every(field: str, branches: list[Any]) -> bool:
    conditions = [b[field] for b in branches if isinstance(b, dict) and field in b]
    return bool(conditions) and all(_is_equality(c) for c in conditions)


def _is_operator_document(condition: Any) -> bool:
    return (
        isinstance(condition, dict)
        and bool(condition)
        and all(k.startswith("$") for k in condition)
    )


def _is_equality(condition: Any) -> bool:
    if _is_operator_document(condition):
        return set(condition) <= {"$eq", "$in"}
    return True


def _regex_unanchored(condition: Any) -> bool:
    if not _is_operator_document(condition) or "$regex" not in condition:
        return False
    pattern = condition["$regex"]
    text = pattern if isinstance(pattern, str) else getattr(pattern, "pattern", "")
    return not text.startswith("^")


def _regex_case_insensitive(condition: Any) -> bool:
    """A case-insensitive pattern (`$options: 'i'`, or the flags of a regex value, as ILIKE
    gives) has no bounded index range, prefix or not."""
    if not _is_operator_document(condition) or "$regex" not in condition:
        return False
    options = condition.get("$options", "")
    flags = getattr(condition["$regex"], "flags", 0)
    if isinstance(flags, str):
        return "i" in flags or "i" in str(options)
    return bool(flags & re.IGNORECASE) or "i" in str(options)
