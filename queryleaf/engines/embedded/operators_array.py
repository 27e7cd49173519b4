"""Array expression operators and $getField.

mongomock-ng failed on a null $arrayElemAt/$filter input (the server returns null), lacked
$reverseArray and $filter's `limit`, returned null for $first/$last of an empty array (the
server leaves the field out), and its $getField returned null instead of missing and
did not evaluate an `input` given as an operator expression.
"""

from __future__ import annotations

from typing import Any

from .operators_compare import truthy
from .registry import Scope, operator
from .values import MISSING, fail, is_nullish, require_integral, type_name


@operator("$arrayElemAt")
def _array_elem_at(scope: Scope, argument: Any) -> Any:
    array, index = scope.args("$arrayElemAt", argument, 2)
    if is_nullish(array) or is_nullish(index):
        return None
    if not isinstance(array, list):
        fail(
            f"$arrayElemAt's first argument must be an array, but is {type_name(array)}", code=28689
        )
    position = require_integral(index, "$arrayElemAt's second argument")
    if not -len(array) <= position < len(array):
        return MISSING  # out of range: the field is left out, not null
    return array[position]


def _first_or_last(name: str, pick: int) -> None:
    @operator(name)
    def handler(scope: Scope, argument: Any) -> Any:
        (array,) = scope.args(name, argument, 1)
        if is_nullish(array):
            return None
        if not isinstance(array, list):
            fail(f"{name}'s argument must be an array, but is {type_name(array)}", code=28689)
        return array[pick] if array else MISSING


_first_or_last("$first", 0)
_first_or_last("$last", -1)


@operator("$filter")
def _filter(scope: Scope, argument: Any) -> list | None:
    spec = scope.named("$filter", argument, ("input", "cond"), ("as", "limit"))
    array = scope.eval(spec["input"])
    limit = scope.eval(spec["limit"]) if "limit" in spec else None
    if is_nullish(array):
        return None
    if not isinstance(array, list):
        fail(f"input to $filter must be an array not {type_name(array)}", code=28651)
    if not is_nullish(limit):
        limit = require_integral(limit, "$filter: limit")
        if limit < 1:
            fail(f"$filter: limit must be greater than 0: {limit}", code=327391)
    else:
        limit = None
    name = spec.get("as", "this")
    kept: list = []
    for item in array:
        if limit is not None and len(kept) >= limit:
            break
        if truthy(scope.with_vars(**{name: item}).eval(spec["cond"])):
            kept.append(item)
    return kept


@operator("$reverseArray")
def _reverse_array(scope: Scope, argument: Any) -> list | None:
    (array,) = scope.args("$reverseArray", argument, 1)
    if is_nullish(array):
        return None
    if not isinstance(array, list):
        fail(
            f"The argument to $reverseArray must be an array, but was of type: {type_name(array)}",
            code=34435,
        )
    return array[::-1]


@operator("$getField")
def _get_field(scope: Scope, argument: Any) -> Any:
    # `{$getField: "a.b"}` reads the field literally named "a.b" of the current document.
    if isinstance(argument, dict) and "field" in argument:
        spec = scope.named("$getField", argument, ("field",), ("input",))
        field = scope.eval(spec["field"])
        source = scope.eval(spec["input"]) if "input" in spec else scope.document
    else:
        field, source = scope.eval(argument), scope.document
    if not isinstance(field, str):
        fail(
            f"$getField requires 'field' to evaluate to type String, but got {type_name(field)}",
            code=5654602,
        )
    if is_nullish(source):
        return None
    if not isinstance(source, dict):
        return MISSING
    return source.get(field, MISSING)
