"""Operators the function library emits that mongomock-ng lacks or gets wrong.

mongomock-ng had no $range, $sortArray or $setField, took the argument list of
`{$arrayToObject: [<array expression>]}` for the array itself (so the documented form failed),
accepted non-string keys there, had no $firstN/$lastN accumulators, and had no $bsonSize.
"""

from __future__ import annotations

import functools
from typing import Any

from . import group
from .ordering import compare, sort_value
from .registry import Scope, operator
from .values import INT32_MAX, INT32_MIN, MISSING, fail, is_nullish, is_number, type_name


def _int32(value: Any, what: str, code: int) -> int:
    if not is_number(value):
        fail(
            f"$range requires a numeric {what}, found value of type: {type_name(value)}", code=code
        )
    number = value.to_decimal() if hasattr(value, "to_decimal") else value
    if number != int(number) or not INT32_MIN <= int(number) <= INT32_MAX:
        fail(f"$range requires a {what} that can be represented as a 32-bit integer, found "
             f"value: {value}", code=code + 1)  # fmt: skip
    return int(number)


@operator("$range")
def _range(scope: Scope, argument: Any) -> list[int]:
    values = scope.args("$range", argument, 2, 3)
    start = _int32(values[0], "starting value", 34443)
    end = _int32(values[1], "ending value", 34445)
    step = _int32(values[2], "step value", 34447) if len(values) == 3 else 1
    if step == 0:
        fail("$range requires a non-zero step value", code=34449)
    return list(range(start, end, step))


def _sort_direction(value: Any) -> int:
    if isinstance(value, bool) or not is_number(value) or value not in (1, -1):
        fail("$sortArray: sort direction must be 1 or -1", code=2942505)
    return int(value)


def _path_value(element: Any, path: str) -> Any:
    """A sort key of an array element: no implicit array traversal, missing sorts as null."""
    value = element
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


@operator("$sortArray")
def _sort_array(scope: Scope, argument: Any) -> list | None:
    spec = scope.named("$sortArray", argument, ("input", "sortBy"))
    array = scope.eval(spec["input"])
    sort_by = spec["sortBy"]
    if isinstance(sort_by, dict):
        if not sort_by:
            fail("$sortArray: sortBy must not be empty", code=2942506)
        keys = [(path, _sort_direction(direction)) for path, direction in sort_by.items()]
    else:
        keys = [(None, _sort_direction(sort_by))]
    if is_nullish(array):
        return None
    if not isinstance(array, list):
        fail(
            f"The input argument to $sortArray must be an array, but was of type: "
            f"{type_name(array)}",
            code=2942504,
        )

    def order(a: Any, b: Any) -> int:
        for path, direction in keys:
            if path is None:
                result = compare(a, b)  # whole values: arrays compare element by element
            else:
                descending = direction < 0
                result = compare(
                    sort_value(_path_value(a, path), descending),
                    sort_value(_path_value(b, path), descending),
                )
            if result:
                return result * direction
        return 0

    return sorted(array, key=functools.cmp_to_key(order))


@operator("$setField")
def _set_field(scope: Scope, argument: Any) -> dict | None:
    spec = scope.named("$setField", argument, ("field", "input", "value"))
    field = spec["field"]
    if isinstance(field, dict) and set(field) == {"$literal"}:
        field = field["$literal"]
    elif isinstance(field, str) and field.startswith("$"):
        fail("$setField: 'field' cannot be a $-prefixed path; wrap it in $literal", code=4161108)
    if not isinstance(field, str):
        fail("$setField requires 'field' to evaluate to a constant of type string", code=4161106)
    document = scope.eval(spec["input"])
    if is_nullish(document):
        return None
    if not isinstance(document, dict):
        fail(
            f"$setField requires 'input' to evaluate to type Object, found {type_name(document)}",
            code=4161105,
        )
    value = scope.eval(spec["value"])
    result = dict(document)
    if value is MISSING:
        result.pop(field, None)  # $$REMOVE removes the field
    else:
        result[field] = value
    return result


def _object_key(key: Any) -> str:
    if not isinstance(key, str):
        fail(
            f"$arrayToObject requires an object key of type string: found {type_name(key)}",
            code=40394,
        )
    if "\0" in key:
        fail("Key field cannot contain an embedded null byte", code=4940400)
    return key


@operator("$arrayToObject")
def _array_to_object(scope: Scope, argument: Any) -> dict | None:
    (array,) = scope.args("$arrayToObject", argument, 1)
    if is_nullish(array):
        return None
    if not isinstance(array, list):
        fail(f"$arrayToObject requires an array input, found: {type_name(array)}", code=40386)
    result: dict[str, Any] = {}
    if not array:
        return result
    pairs = isinstance(array[0], list)
    for item in array:
        if pairs:
            if not isinstance(item, list) or len(item) != 2:
                fail("$arrayToObject requires an array of size 2 arrays", code=40397)
            key, value = item
        else:
            if not isinstance(item, dict) or set(item) != {"k", "v"}:
                fail("$arrayToObject requires an object with keys 'k' and 'v'", code=40393)
            key, value = item["k"], item["v"]
        result[_object_key(key)] = value  # a repeated key: the last value wins
    return result


def _n_of(values: list[Any], name: str) -> int:
    n = values[0].get("n") if values and isinstance(values[0], dict) else None
    if isinstance(n, bool) or not is_number(n) or n != int(n) or n < 1:
        fail(f"Value for 'n' must be a positive integral value, found {n!r}", code=5787908)
    return int(n)


def _edge_n(values: list[Any], first: bool) -> list[Any]:
    """$firstN/$lastN over the per-document values of {input: <expr>, n: <n>}: missing
    inputs count as null."""
    if not values:
        return []
    n = _n_of(values, "$firstN" if first else "$lastN")
    chosen = values[:n] if first else values[-n:]
    return [None if item.get("input", MISSING) is MISSING else item["input"] for item in chosen]


group.ACCUMULATORS["$firstN"] = lambda values: _edge_n(values, first=True)
group.ACCUMULATORS["$lastN"] = lambda values: _edge_n(values, first=False)


@operator("$bsonSize")
def _bson_size(scope: Scope, argument: Any) -> int | None:
    import bson

    value = scope.eval(
        argument[0] if isinstance(argument, list) and len(argument) == 1 else argument
    )
    if is_nullish(value):
        return None
    if not isinstance(value, dict):
        fail(f"$bsonSize requires a document input, found: {type_name(value)}", code=31393)
    return len(bson.encode(value))
