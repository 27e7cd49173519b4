"""$bitAnd, $bitOr, $bitXor and $bitNot (MongoDB 6.3+), which mongomock-ng lacks: int and long
operands only (a double or a decimal is an error, as on the server), null or missing gives
null, and the result is a long when any operand is one, else an int; values wrap as 64-bit
two's complement."""

from __future__ import annotations

import functools
from typing import Any

from .registry import Scope, operator
from .values import INT64_MAX, fail, is_nullish, numeric_kind, type_name

_WRAP = 1 << 64


def _wrapped(value: int, kind: str) -> Any:
    from bson import Int64

    value %= _WRAP
    if value > INT64_MAX:
        value -= _WRAP
    return Int64(value) if kind == "long" else int(value)


def _operands(name: str, values: list[Any]) -> tuple[list[int], str] | None:
    kinds = []
    for value in values:
        if is_nullish(value):
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            fail(f"{name} only supports int and long operands, found {type_name(value)}", 28765)
        kinds.append(numeric_kind(value))
    return [int(v) for v in values], "long" if "long" in kinds else "int"


def _fold(name: str, combine: Any) -> Any:
    def handler(scope: Scope, argument: Any) -> Any:
        items = argument if isinstance(argument, list) else [argument]
        found = _operands(name, [scope.eval(item) for item in items])
        if found is None:
            return None
        values, kind = found
        if not values:
            return _wrapped(-1 if name == "$bitAnd" else 0, "int")
        return _wrapped(functools.reduce(combine, values), kind)

    return handler


operator("$bitAnd")(_fold("$bitAnd", lambda a, b: a & b))
operator("$bitOr")(_fold("$bitOr", lambda a, b: a | b))
operator("$bitXor")(_fold("$bitXor", lambda a, b: a ^ b))


@operator("$bitNot")
def _bit_not(scope: Scope, argument: Any) -> Any:
    (value,) = scope.args("$bitNot", argument, 1)
    found = _operands("$bitNot", [value])
    if found is None:
        return None
    (number,), kind = found
    return _wrapped(~number, kind)
