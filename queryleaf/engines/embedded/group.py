"""The $group stage and the accumulators, also usable as $project-style expressions.

mongomock-ng skipped documents missing the field in $first/$last (the server returns null for
them), compared mixed types with Python's `<` in $min/$max, grouped 1 and NumberDecimal("1")
apart and put `_id` last in the output documents.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Callable
from typing import Any

from bson import Decimal128

from . import operators_arith
from .compiled import compile_many
from .ordering import canonical, compare
from .registry import Scope, operator, stage
from .values import (
    DECIMAL_CONTEXT,
    MISSING,
    fail,
    is_nullish,
    is_number,
    make_decimal,
    to_decimal,
    to_double,
)


def _numbers(values: list[Any]) -> list[Any]:
    return [value for value in values if is_number(value)]


def sum_of(values: list[Any]) -> Any:
    """Sum of the numeric values (others ignored); 0 when there are none."""
    return operators_arith.combine(_numbers(values), lambda a, b: a + b, 0)


def average_of(values: list[Any]) -> Any:
    numbers = _numbers(values)
    if not numbers:
        return None
    total = sum_of(numbers)
    if not isinstance(total, Decimal128):
        return to_double(total) / len(numbers)
    with decimal.localcontext(DECIMAL_CONTEXT):
        return make_decimal(to_decimal(total) / len(numbers))


def _extreme(values: list[Any], sign: int) -> Any:
    best: Any = MISSING
    for value in values:
        if is_nullish(value):
            continue
        if best is MISSING or compare(value, best) * sign > 0:
            best = value
    return None if best is MISSING else best


def minimum_of(values: list[Any]) -> Any:
    return _extreme(values, -1)


def maximum_of(values: list[Any]) -> Any:
    return _extreme(values, 1)


def _std_dev(values: list[Any], sample: bool) -> float | None:
    numbers = [to_double(value) for value in _numbers(values)]
    count = len(numbers) - (1 if sample else 0)
    if count < 1:
        return None
    mean = math.fsum(numbers) / len(numbers)
    return math.sqrt(math.fsum((number - mean) ** 2 for number in numbers) / count)


def _add_to_set(values: list[Any]) -> list[Any]:
    seen: dict[Any, Any] = {}
    for value in values:
        if value is not MISSING:
            seen.setdefault(canonical(value), value)
    return list(seen.values())


def _merge(values: list[Any]) -> dict:
    merged: dict = {}
    for value in values:
        if is_nullish(value):
            continue
        if not isinstance(value, dict):
            fail(f"$mergeObjects requires object inputs, but input {value!r} is not", code=40400)
        merged.update(value)
    return merged


def _edge(values: list[Any], index: int) -> Any:
    if not values:
        return None
    value = values[index]
    return None if value is MISSING else value


# Accumulator name -> function of the per-document values (MISSING where the field is absent).
ACCUMULATORS: dict[str, Callable[[list[Any]], Any]] = {
    "$sum": sum_of,
    "$avg": average_of,
    "$min": minimum_of,
    "$max": maximum_of,
    "$first": lambda values: _edge(values, 0),
    "$last": lambda values: _edge(values, -1),
    "$push": lambda values: [value for value in values if value is not MISSING],
    "$addToSet": _add_to_set,
    "$mergeObjects": _merge,
    "$stdDevPop": lambda values: _std_dev(values, sample=False),
    "$stdDevSamp": lambda values: _std_dev(values, sample=True),
    "$count": len,
}


def _parse_spec(spec: Any) -> tuple[Any, list[tuple[str, str, Any]]]:
    if not isinstance(spec, dict) or "_id" not in spec:
        fail("a group specification must include an _id", code=15955)
    fields = []
    for field, accumulator in spec.items():
        if field == "_id":
            continue
        if "." in field:
            fail(f"the group aggregate field name '{field}' cannot contain '.'", code=40236)
        if not isinstance(accumulator, dict) or len(accumulator) != 1:
            fail(
                f"the group aggregate field '{field}' must be defined as an expression inside an object",
                code=40234,
            )
        name, argument = next(iter(accumulator.items()))
        if name not in ACCUMULATORS:
            if name.startswith("$"):
                raise NotImplementedError(
                    f"accumulator {name} is not supported by the embedded engine"
                )
            fail(f"unknown group operator '{name}'", code=15952)
        if name == "$count" and argument != {}:
            fail("$count takes no arguments, i.e. $count:{}", code=5485800)
        fields.append((field, name, argument))
    return spec["_id"], fields


@stage("$group")
def group_stage(
    documents: list[dict], database: Any, spec: Any, variables: dict | None
) -> list[dict]:
    id_expression, fields = _parse_spec(spec)
    # Compiled once for the stage, evaluated per document (compiled.py).
    key_of, *arguments = compile_many([id_expression] + [argument for _, _, argument in fields])
    variables = variables or {}
    groups: dict[Any, tuple[Any, list[dict]]] = {}
    for document in documents:
        key = key_of(document, variables)
        if key is MISSING:
            key = None  # a missing key groups with null
        groups.setdefault(canonical(key), (key, []))[1].append(document)
    output = []
    for key, members in groups.values():
        row = {"_id": key}
        for (field, name, _), value_of in zip(fields, arguments, strict=True):
            if name == "$count":
                row[field] = len(members)
                continue
            values = [value_of(document, variables) for document in members]
            row[field] = ACCUMULATORS[name](values)
        output.append(row)
    return output


def _register_expression_form(name: str) -> None:
    """$sum & co. in expressions: over their operands, or over the elements of a single
    array-valued operand."""
    reduce = ACCUMULATORS[name]

    @operator(name)
    def handler(scope: Scope, argument: Any) -> Any:
        operands = argument if isinstance(argument, list) else [argument]
        values = [scope.eval(operand) for operand in operands]
        if len(values) == 1 and isinstance(values[0], list):
            values = values[0]
        return reduce(values)


for _name in ("$sum", "$avg", "$min", "$max", "$stdDevPop", "$stdDevSamp"):
    _register_expression_form(_name)
