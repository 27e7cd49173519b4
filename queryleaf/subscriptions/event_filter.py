"""Checks and repairs of a subscription's event_filter (a MongoDB query over the change
event) before any stream opens, and the warnings a user needs about what it drops."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from queryleaf.errors import SemanticError

LOGICAL = {"$and", "$or", "$nor"}
TOP_LEVEL = LOGICAL | {"$expr", "$comment", "$text", "$where", "$jsonSchema"}
FIELD_OPERATORS = {
    "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$type", "$regex",
    "$options", "$not", "$elemMatch", "$size", "$all", "$mod", "$bitsAllSet", "$bitsAnySet",
    "$bitsAllClear", "$bitsAnyClear",
}  # fmt: skip
DISALLOWED = {"$where", "$text"}


@dataclass
class CheckedFilter:
    query: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def check_filter(query: dict[str, Any], offset: int | None = None) -> CheckedFilter:
    """Validate operators; rewrite `{path: {$or: [{a: ...}, ...]}}` (which MongoDB rejects:
    logical operators are top-level only) into the `$or` of `path.a` conditions it means."""
    warnings: list[str] = []
    repaired = _top(query, warnings, offset)
    return CheckedFilter(repaired, warnings)


def _top(query: dict[str, Any], warnings: list[str], offset: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    extra: list[dict[str, Any]] = []
    for key, value in query.items():
        if key.startswith("$"):
            if key in DISALLOWED:
                raise SemanticError(
                    f"{key} cannot be used in a change stream filter",
                    offset=offset,
                    code="QL312",
                )
            if key not in TOP_LEVEL:
                raise _unknown(key, offset, TOP_LEVEL)
            if key in LOGICAL:
                if not isinstance(value, list) or not value:
                    raise SemanticError(
                        f"{key} needs a non-empty JSON_ARRAY of conditions",
                        offset=offset,
                        code="QL312",
                    )
                out[key] = [_top(_as_query(v, key, offset), warnings, offset) for v in value]
            else:
                out[key] = value
            continue
        repaired = _field(key, value, warnings, offset)
        if isinstance(repaired, _Lifted):
            extra.append(repaired.query)
        else:
            out[key] = repaired
    for lifted in list(extra):
        operator = next(iter(lifted))
        if operator not in out:
            out[operator] = lifted[operator]
            extra.remove(lifted)
    if not extra:
        return out
    parts = [{k: v} for k, v in out.items()] + extra
    return parts[0] if len(parts) == 1 else {"$and": parts}


@dataclass
class _Lifted:
    query: dict[str, Any]


def _field(path: str, value: Any, warnings: list[str], offset: int | None) -> Any:
    if not isinstance(value, dict) or not any(k.startswith("$") for k in value):
        return value
    logical = [k for k in value if k in LOGICAL]
    if logical:
        if len(value) != 1:
            raise SemanticError(
                f"{path} mixes {logical[0]} with other operators",
                offset=offset,
                hint=f"move {logical[0]} to the top level of the filter",
                code="QL312",
            )
        operator = logical[0]
        branches = value[operator]
        if not isinstance(branches, list) or not branches:
            raise SemanticError(
                f"{operator} needs a non-empty JSON_ARRAY of conditions",
                offset=offset,
                code="QL312",
            )
        lifted = [
            _top(_prefix(path, _as_query(b, operator, offset)), warnings, offset) for b in branches
        ]
        warnings.append(
            f"event_filter: {operator} under '{path}' is not valid MongoDB (logical operators "
            f"are top-level only); rewritten as a top-level {operator} over "
            + ", ".join(f"'{k}'" for branch in lifted for k in branch)
        )
        return _Lifted({operator: lifted})
    for key in value:
        if key.startswith("$") and key not in FIELD_OPERATORS:
            raise _unknown(key, offset, FIELD_OPERATORS)
    return value


def _prefix(path: str, query: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in query.items():
        if key in LOGICAL:
            out[key] = [_prefix(path, _as_query(v, key, None)) for v in value]
        elif key.startswith("$"):
            raise SemanticError(f"{key} cannot be nested under '{path}'", code="QL312")
        else:
            out[f"{path}.{key}"] = value
    return out


def _as_query(value: Any, operator: str, offset: int | None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SemanticError(
            f"each condition of {operator} must be a JSON_OBJECT", offset=offset, code="QL312"
        )
    return value


def _unknown(key: str, offset: int | None, known: set[str]) -> SemanticError:
    close = difflib.get_close_matches(key, sorted(known), n=1)
    return SemanticError(
        f"unknown query operator {key} in event_filter",
        offset=offset,
        hint=f"did you mean {close[0]}?" if close else "see MongoDB's query operators",
        code="QL312",
    )


def matched_operation_types(query: dict[str, Any], universe: set[str]) -> set[str]:
    """The operation types a filter can possibly match (an over-approximation that only
    reads constraints on `operationType`)."""
    possible = set(universe)
    for key, value in query.items():
        if key == "operationType":
            possible &= _types_of(value, universe)
        elif key == "$and":
            for branch in value:
                possible &= matched_operation_types(branch, universe)
        elif key == "$or":
            union: set[str] = set()
            for branch in value:
                union |= matched_operation_types(branch, universe)
            possible &= union
    return possible


def _types_of(condition: Any, universe: set[str]) -> set[str]:
    if isinstance(condition, str):
        return {condition}
    if isinstance(condition, dict):
        result = set(universe)
        for operator, argument in condition.items():
            if operator == "$eq":
                result &= {argument}
            elif operator == "$in" and isinstance(argument, list):
                result &= set(argument)
            elif operator == "$ne":
                result -= {argument}
            elif operator == "$nin" and isinstance(argument, list):
                result -= set(argument)
        return result
    return set(universe)


def full_document_paths(query: dict[str, Any]) -> list[str]:
    """Paths under fullDocument that a filter requires to match (outside $or/$nor, where
    a branch may not need them)."""
    found = []
    for key, value in query.items():
        if key.startswith("fullDocument.") or key == "fullDocument":
            if not _accepts_missing(value):
                found.append(key)
        elif key == "$and":
            for branch in value:
                found.extend(full_document_paths(branch))
    return found


def _accepts_missing(condition: Any) -> bool:
    if condition is None:
        return True
    if isinstance(condition, dict):
        if condition.get("$exists") is False:
            return True
        if "$eq" in condition and condition["$eq"] is None:
            return True
        if "$in" in condition and None in (condition["$in"] or []):
            return True
    return False
