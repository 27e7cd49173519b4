"""The $setWindowFields stage (MongoDB 5.0), evaluated by the embedded engine.

mongomock-ng's version ignored `range` windows and variables, summed with Python's `sum` (no
type rules), skipped missing values inconsistently and let `$rank` look at every sortBy field.
This one follows the server's documented rules:

- `partitionBy` is any expression (missing groups with null; an array is an error); each
  partition is sorted by `sortBy` and output in partition order;
- `documents: [lower, upper]` bounds are positions relative to the current document
  ("current", "unbounded" or integers); `range: [lower, upper]` bounds are added to the
  current document's single ascending sortBy value (a number, or a date with `unit`): a numeric
  bound includes ties, "current" means the current document only; a window can be empty;
- window operators: `$documentNumber`, `$rank`, `$denseRank` (one sortBy field; missing and
  null rank apart, as before MongoDB 8.0), `$shift` (a constant `default` where the shifted
  position is outside the partition or the value there is missing), and the accumulators
  `$sum $avg $min $max $first $last $push $addToSet $count $stdDevPop $stdDevSamp` over the
  window (without `window`: the whole partition).
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass
from typing import Any

from bson import Decimal128
from mongomock_ng import helpers

from .dates import UTC, add, parse_unit
from .group import ACCUMULATORS
from .ordering import canonical, compare, sort_key, sort_value
from .registry import Scope, stage
from .stages import _set_path, sort_stage
from .values import DECIMAL_CONTEXT, MISSING, exact_decimal, fail, is_number, type_name

_FAILED_TO_PARSE = 9
_TYPE_MISMATCH = 14

RANK_OPERATORS = ("$documentNumber", "$rank", "$denseRank")
WINDOW_ACCUMULATORS = (
    "$sum",
    "$avg",
    "$min",
    "$max",
    "$first",
    "$last",
    "$push",
    "$addToSet",
    "$count",
    "$stdDevPop",
    "$stdDevSamp",
)
# Valid on the server, not evaluated here.
_OTHER_WINDOW_FUNCTIONS = (
    "$bottom",
    "$bottomN",
    "$covariancePop",
    "$covarianceSamp",
    "$derivative",
    "$expMovingAvg",
    "$firstN",
    "$integral",
    "$lastN",
    "$linearFill",
    "$locf",
    "$maxN",
    "$median",
    "$minN",
    "$percentile",
    "$top",
    "$topN",
)


@dataclass
class _Bounds:
    kind: str  # "documents" or "range"
    lower: Any  # "unbounded", "current" or a number
    upper: Any
    unit: str | None = None


@dataclass
class _Output:
    path: str
    operator: str
    argument: Any
    bounds: _Bounds | None


@stage("$setWindowFields")
def set_window_fields_stage(
    documents: list[dict], database: Any, spec: Any, variables: dict | None
) -> list[dict]:
    if not isinstance(spec, dict):
        fail("the $setWindowFields stage specification must be an object", code=_FAILED_TO_PARSE)
    for key in spec:
        if key not in ("partitionBy", "sortBy", "output"):
            fail(f"BSON field '$setWindowFields.{key}' is an unknown field.", code=40415)
    sort_by = spec.get("sortBy")
    if sort_by is not None and not isinstance(sort_by, dict):
        fail("$setWindowFields sortBy must be an object", code=_TYPE_MISMATCH)
    if "output" not in spec:
        fail("BSON field '$setWindowFields.output' is missing but a required field", code=40414)
    if not isinstance(spec["output"], dict):
        fail("$setWindowFields output must be an object", code=_TYPE_MISMATCH)
    outputs = [_parse_output(path, value, sort_by) for path, value in spec["output"].items()]
    _check_paths([output.path for output in outputs])

    result: list[dict] = []
    for partition in _partitions(documents, spec.get("partitionBy"), variables):
        if sort_by:
            partition = sort_stage(partition, database, sort_by, variables)
        scopes = [Scope.for_document(document, variables) for document in partition]
        rows = [dict(document) for document in partition]
        for output in outputs:
            values = _evaluate(output, partition, scopes, sort_by)
            for row, value in zip(rows, values, strict=True):
                _set_path(row, output.path, value)
        result.extend(rows)
    return result


# -- parsing ------------------------------------------------------------------------------------


def _parse_output(path: str, value: Any, sort_by: dict | None) -> _Output:
    if not isinstance(value, dict) or not value:
        fail(f"Expected a $-prefixed window function, {path}", code=_FAILED_TO_PARSE)
    operators = [key for key in value if key != "window"]
    if not operators or not operators[0].startswith("$"):
        fail(
            f"Expected a $-prefixed window function, {operators[0] if operators else path}",
            code=_FAILED_TO_PARSE,
        )
    operator = operators[0]
    if len(operators) > 1:
        fail(f"Window function {operator} found an unknown argument: {operators[1]}", code=9)
    if operator in _OTHER_WINDOW_FUNCTIONS:
        raise NotImplementedError(
            f"window function {operator} is not supported by the embedded engine"
        )
    known = RANK_OPERATORS + WINDOW_ACCUMULATORS + ("$shift",)
    if operator not in known:
        fail(f"Unrecognized window function, {operator}", code=_FAILED_TO_PARSE)
    argument = value[operator]
    window = value.get("window", MISSING)
    if operator in RANK_OPERATORS or operator == "$shift":
        if window is not MISSING:
            fail(f"{operator} does not accept a 'window' field", code=5371601)
        if not sort_by:
            fail(f"{operator} must be specified with a top level sortBy expression", code=5371602)
        if operator in RANK_OPERATORS and argument != {}:
            fail(f"{operator} must be specified with '{{}}' as the value", code=5371603)
        if operator in ("$rank", "$denseRank") and len(sort_by) != 1:
            fail(
                f"{operator} must be specified with a top level sortBy expression with exactly "
                "one element",
                code=5371602,
            )
        if operator == "$shift":
            argument = _parse_shift(argument)
        return _Output(path, operator, argument, None)
    if operator == "$count" and argument != {}:
        fail("$count only accepts an empty object as input", code=5371604)
    bounds = None if window is MISSING else _parse_window(window, sort_by)
    return _Output(path, operator, argument, bounds)


def _parse_shift(argument: Any) -> dict:
    if not isinstance(argument, dict):
        fail("Argument to $shift must be an object", code=_FAILED_TO_PARSE)
    for key in argument:
        if key not in ("output", "by", "default"):
            fail(f"Unknown argument in $shift: {key}", code=_FAILED_TO_PARSE)
    if "output" not in argument:
        fail("$shift requires an 'output' expression", code=_FAILED_TO_PARSE)
    by = argument.get("by", MISSING)
    if not is_number(by) or isinstance(by, bool) or _as_integer(by) is None:
        fail("$shift requires 'by' as an integer value", code=_FAILED_TO_PARSE)
    default = argument.get("default", None)
    if not _is_constant(default):
        fail("$shift's default expression must be a constant", code=_FAILED_TO_PARSE)
    value = Scope.for_document({}).eval(default)
    return {
        "output": argument["output"],
        "by": _as_integer(by),
        "default": None if value is MISSING else value,
    }


def _parse_window(window: Any, sort_by: dict | None) -> _Bounds:
    if not isinstance(window, dict):
        fail("'window' field must be an object", code=_FAILED_TO_PARSE)
    for key in window:
        if key not in ("documents", "range", "unit"):
            fail(f"'window' field has an unexpected subfield: {key}", code=_FAILED_TO_PARSE)
    if ("documents" in window) == ("range" in window):
        fail("'window' field must specify exactly one of 'documents' or 'range'", code=9)
    kind = "documents" if "documents" in window else "range"
    if kind == "documents" and "unit" in window:
        fail("Document-based bounds can't have a 'unit'", code=_FAILED_TO_PARSE)
    pair = window[kind]
    if not isinstance(pair, list) or len(pair) != 2:
        fail(f"Window bounds must be a 2-element array: {pair!r}", code=_FAILED_TO_PARSE)
    unit = parse_unit(window["unit"]) if "unit" in window else None
    lower, upper = (_parse_bound(bound, kind, unit) for bound in pair)
    if _position(lower, -1) > _position(upper, 1):
        fail(f"Lower bound must not exceed upper bound: {pair!r}", code=5339900)
    if kind == "documents":
        if not sort_by and (lower, upper) != ("unbounded", "unbounded"):
            fail("Document-based bounds require a sortBy", code=5339901)
    else:
        if not sort_by or len(sort_by) != 1:
            fail("Range-based bounds require sortBy a single field", code=5339902)
        if next(iter(sort_by.values())) != 1:
            fail("Range-based bounds require an ascending sortBy", code=8947401)
    return _Bounds(kind, lower, upper, unit)


def _parse_bound(bound: Any, kind: str, unit: str | None) -> Any:
    if bound in ("current", "unbounded"):
        return bound
    if not _is_constant(bound) or isinstance(bound, str):
        fail(f"{kind} bounds must be 'current', 'unbounded' or a number", code=9)
    value = Scope.for_document({}).eval(bound)
    if not is_number(value) or isinstance(value, bool):
        if kind == "documents":
            fail("Numeric document-based bounds must be an integer", code=_FAILED_TO_PARSE)
        fail("Range-based bounds expression must be a number", code=_FAILED_TO_PARSE)
    if (kind == "documents" or unit is not None) and _as_integer(value) is None:
        what = "document-based" if kind == "documents" else "time-based"
        fail(f"Numeric {what} bounds must be an integer", code=_FAILED_TO_PARSE)
    return _as_integer(value) if kind == "documents" or unit is not None else value


def _position(bound: Any, unbounded: int) -> Any:
    """A bound on one axis for the lower <= upper check ("current" is 0)."""
    if bound == "unbounded":
        return decimal.Decimal("Infinity") * unbounded
    if bound == "current":
        return decimal.Decimal(0)
    return exact_decimal(bound)


def _as_integer(value: Any) -> int | None:
    number = value.to_decimal() if isinstance(value, Decimal128) else value
    try:
        if number != int(number):
            return None
    except (OverflowError, ValueError, decimal.InvalidOperation):
        return None
    return int(number)


def _is_constant(expression: Any) -> bool:
    """No field path and no $$ROOT/$$CURRENT anywhere (a $literal is constant as written)."""
    if isinstance(expression, str):
        if expression.startswith("$$"):
            return expression.split(".")[0][2:] not in ("ROOT", "CURRENT")
        return not expression.startswith("$")
    if isinstance(expression, dict):
        if set(expression) == {"$literal"}:
            return True
        return all(_is_constant(value) for value in expression.values())
    if isinstance(expression, list):
        return all(_is_constant(item) for item in expression)
    return True


def _check_paths(paths: list[str]) -> None:
    for path in paths:
        for other in paths:
            if path != other and other.startswith(path + "."):
                fail(
                    f"$setWindowFields specification contains two conflicting paths: '{path}' "
                    f"and '{other}'",
                    code=6307900,
                )


# -- partitions -----------------------------------------------------------------------------


def _partitions(
    documents: list[dict], partition_by: Any, variables: dict | None
) -> list[list[dict]]:
    if partition_by is None:
        return [list(documents)] if documents else []
    groups: dict[Any, tuple[Any, list[dict]]] = {}
    for document in documents:
        key = Scope.for_document(document, variables).eval_or_null(partition_by)
        if isinstance(key, list):
            fail(
                "An expression used to partition cannot evaluate to value of type array",
                code=_TYPE_MISMATCH,
            )
        groups.setdefault(canonical(key), (key, []))[1].append(document)
    ordered = sorted(groups.values(), key=lambda item: sort_key(item[0]))
    return [members for _, members in ordered]


# -- evaluation -----------------------------------------------------------------------------


def _evaluate(
    output: _Output,
    partition: list[dict],
    scopes: list[Scope],
    sort_by: dict | None,
) -> list[Any]:
    count = len(partition)
    operator = output.operator
    if operator == "$documentNumber":
        return list(range(1, count + 1))
    if operator in ("$rank", "$denseRank"):
        return _ranks(partition, next(iter(sort_by or {})), dense=operator == "$denseRank")
    if operator == "$shift":
        spec = output.argument
        values = []
        for index in range(count):
            source = index + spec["by"]
            value = scopes[source].eval(spec["output"]) if 0 <= source < count else MISSING
            values.append(spec["default"] if value is MISSING else value)
        return values
    inputs = [] if operator == "$count" else [scope.eval(output.argument) for scope in scopes]
    windows = _windows(output.bounds, partition, sort_by)
    results = []
    for start, stop in windows:
        if operator == "$count":
            results.append(max(stop - start, 0))
        else:
            results.append(ACCUMULATORS[operator](inputs[start:stop] if start < stop else []))
    return results


def _ranks(partition: list[dict], path: str, dense: bool) -> list[int]:
    ranks: list[int] = []
    previous: Any = None
    for index, document in enumerate(partition):
        value = helpers.get_value_by_dot(document, path, can_generate_array=True)
        if index == 0:
            ranks.append(1)
        elif _same_rank(previous, value):
            ranks.append(ranks[-1])
        else:
            ranks.append(ranks[-1] + 1 if dense else index + 1)
        previous = value
    return ranks


def _same_rank(a: Any, b: Any) -> bool:
    if (a is MISSING) != (b is MISSING):
        return False
    return compare(sort_value(a, False), sort_value(b, False)) == 0


def _windows(bounds: _Bounds | None, partition: list[dict], sort_by: dict | None) -> list:
    """(start, stop) positions of each document's window."""
    count = len(partition)
    if bounds is None:
        return [(0, count)] * count
    if bounds.kind == "documents":
        return [_document_window(bounds, i, count) for i in range(count)]
    path = next(iter(sort_by or {}))
    keys = [
        helpers.get_value_by_dot(document, path, can_generate_array=True) for document in partition
    ]
    for key in keys:
        _check_range_key(key, bounds.unit)
    windows = []
    for i, key in enumerate(keys):
        start = _range_start(bounds.lower, i, key, keys, bounds.unit)
        stop = _range_stop(bounds.upper, i, key, keys, bounds.unit)
        windows.append((start, stop))
    return windows


def _document_window(bounds: _Bounds, index: int, count: int) -> tuple[int, int]:
    lower, upper = bounds.lower, bounds.upper
    start = {"unbounded": 0, "current": index}.get(lower) if isinstance(lower, str) else None
    if start is None:
        start = max(index + lower, 0)
    stop = {"unbounded": count, "current": index + 1}.get(upper) if isinstance(upper, str) else None
    if stop is None:
        stop = min(index + upper + 1, count)
    return start, stop


def _check_range_key(key: Any, unit: str | None) -> None:
    if unit is None and not (is_number(key) and not isinstance(key, bool)):
        fail(
            f"Invalid range: Expected the sortBy field to be a number, but it was {type_name(key)}",
            code=5429413,
        )
    if unit is not None and not isinstance(key, dt.datetime):
        fail(
            f"Invalid range: Expected the sortBy field to be a Date, but it was {type_name(key)}",
            code=5429513,
        )


def _shifted(key: Any, offset: Any, unit: str | None) -> Any:
    if unit is not None:
        return add(key, unit, int(offset), UTC)
    if isinstance(key, Decimal128) or isinstance(offset, Decimal128):
        with decimal.localcontext(DECIMAL_CONTEXT):
            return exact_decimal(key) + exact_decimal(offset)
    return key + offset


def _range_start(bound: Any, index: int, key: Any, keys: list[Any], unit: str | None) -> int:
    if bound == "unbounded":
        return 0
    if bound == "current":
        return index
    low = _shifted(key, bound, unit)
    return next((j for j, other in enumerate(keys) if _compare(other, low) >= 0), len(keys))


def _range_stop(bound: Any, index: int, key: Any, keys: list[Any], unit: str | None) -> int:
    if bound == "unbounded":
        return len(keys)
    if bound == "current":
        return index + 1
    high = _shifted(key, bound, unit)
    last = next((j for j in range(len(keys) - 1, -1, -1) if _compare(keys[j], high) <= 0), -1)
    return last + 1


def _compare(a: Any, b: Any) -> int:
    if isinstance(b, decimal.Decimal):
        return (exact_decimal(a) > b) - (exact_decimal(a) < b)
    return compare(a, b)
