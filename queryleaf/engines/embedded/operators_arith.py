"""Arithmetic expression operators with the server's numeric typing.

The result type is the widest operand type (int < long < double < decimal), ints widen to long
on overflow, and $round/$trunc go through a decimal so that ties round half to even.
mongomock-ng returned Python floats for $mod/$pow/$round on integers, raw `decimal.Decimal`
objects for decimals, and could not take a place argument for $trunc.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Callable
from typing import Any

from bson import Decimal128

from .registry import Scope, operator
from .values import (
    DECIMAL_CONTEXT,
    INT64_MAX,
    INT64_MIN,
    as_utc,
    fail,
    integral,
    is_nullish,
    is_number,
    make_decimal,
    numeric_kind,
    require_integral,
    to_decimal,
    to_double,
    type_name,
    widest_kind,
)


def _numbers(name: str, values: list[Any], allow_dates: bool = False) -> list[Any] | None:
    """The operands, or None when one is null/missing (checked left to right like the server)."""
    for value in values:
        if is_nullish(value):
            return None
        if not is_number(value) and not (allow_dates and isinstance(value, dt.datetime)):
            kinds = "numeric or date types" if allow_dates else "numeric types"
            fail(f"{name} only supports {kinds}, not {type_name(value)}")
    return values


def combine(values: list[Any], op: Callable[[Any, Any], Any], start: int) -> Any:
    """Fold numbers with `op` in the widest operand type."""
    kind = widest_kind("int", *(numeric_kind(value) for value in values))
    if kind == "decimal":
        with decimal.localcontext(DECIMAL_CONTEXT):
            total = decimal.Decimal(start)
            for value in values:
                total = op(total, to_decimal(value))
        return make_decimal(total)
    if kind == "double":
        total_float = float(start)
        for value in values:
            total_float = op(total_float, to_double(value))
        return total_float
    total_int = start
    for value in values:
        total_int = op(total_int, int(value))
    if not INT64_MIN <= total_int <= INT64_MAX:
        return _as_double(total_int)  # the server falls back to double on long overflow
    return integral(total_int, kind)


def _as_double(value: int) -> float:
    try:
        return float(value)
    except OverflowError:  # beyond the double range: infinity, as the server's double math
        return math.copysign(math.inf, value)


def _date_offset_ms(value: Any) -> int:
    """A number of milliseconds to add to a date; doubles round half away from zero."""
    if isinstance(value, float):
        if not math.isfinite(value) or abs(value) >= 2**63:
            fail("Overflow: the date offset is not a representable number of milliseconds", code=15)
        return int(math.copysign(math.floor(abs(value) + 0.5), value))
    return int(to_decimal(value)) if isinstance(value, Decimal128) else int(value)


@operator("$add")
def _add(scope: Scope, argument: Any) -> Any:
    values = _numbers("$add", scope.args("$add", argument, 0, 10**6), allow_dates=True)
    if values is None:
        return None
    dates = [value for value in values if isinstance(value, dt.datetime)]
    if len(dates) > 1:
        fail("only one date allowed in an $add expression", code=16612)
    if dates:
        millis = sum(_date_offset_ms(value) for value in values if value is not dates[0])
        return as_utc(dates[0]) + dt.timedelta(milliseconds=millis)
    return combine(values, lambda a, b: a + b, 0)


@operator("$multiply")
def _multiply(scope: Scope, argument: Any) -> Any:
    values = _numbers("$multiply", scope.args("$multiply", argument, 0, 10**6))
    return None if values is None else combine(values, lambda a, b: a * b, 1)


@operator("$subtract")
def _subtract(scope: Scope, argument: Any) -> Any:
    left, right = scope.args("$subtract", argument, 2)
    if is_nullish(left) or is_nullish(right):
        return None
    if isinstance(left, dt.datetime):
        if isinstance(right, dt.datetime):
            delta = as_utc(left) - as_utc(right)
            return integral(delta // dt.timedelta(milliseconds=1), "long")
        if is_number(right):
            return as_utc(left) - dt.timedelta(milliseconds=_date_offset_ms(right))
    if not (is_number(left) and is_number(right)):
        fail(f"can't $subtract {type_name(right)} from {type_name(left)}", code=16556)
    return _difference(left, right)


def _difference(left: Any, right: Any) -> Any:
    kind = widest_kind(numeric_kind(left), numeric_kind(right))
    if kind == "decimal":
        with decimal.localcontext(DECIMAL_CONTEXT):
            return make_decimal(to_decimal(left) - to_decimal(right))
    if kind == "double":
        return to_double(left) - to_double(right)
    result = int(left) - int(right)
    return float(result) if not INT64_MIN <= result <= INT64_MAX else integral(result, kind)


@operator("$divide")
def _divide(scope: Scope, argument: Any) -> Any:
    values = _numbers("$divide", scope.args("$divide", argument, 2))
    if values is None:
        return None
    left, right = values
    if "decimal" in (numeric_kind(left), numeric_kind(right)):
        if to_decimal(right).is_zero():
            fail("can't $divide by zero", code=16608)
        with decimal.localcontext(DECIMAL_CONTEXT):
            return make_decimal(to_decimal(left) / to_decimal(right))
    if to_double(right) == 0:
        fail("can't $divide by zero", code=16608)
    return to_double(left) / to_double(right)


@operator("$mod")
def _mod(scope: Scope, argument: Any) -> Any:
    values = _numbers("$mod", scope.args("$mod", argument, 2))
    if values is None:
        return None
    left, right = values
    kind = widest_kind(numeric_kind(left), numeric_kind(right))
    if to_decimal(right).is_zero():
        fail("can't $mod by zero", code=16610)
    if kind == "decimal":
        with decimal.localcontext(DECIMAL_CONTEXT):
            # Decimal's % keeps the dividend's sign, like C's fmod.
            return make_decimal(to_decimal(left) % to_decimal(right))
    if kind == "double":
        dividend = to_double(left)
        if math.isinf(dividend):  # C's fmod: NaN (Python's raises "math domain error")
            return math.nan
        return math.fmod(dividend, to_double(right))
    remainder = abs(int(left)) % abs(int(right))
    return integral(-remainder if left < 0 else remainder, kind)


@operator("$pow")
def _pow(scope: Scope, argument: Any) -> Any:
    values = _numbers("$pow", scope.args("$pow", argument, 2))
    if values is None:
        return None
    base, exponent = values
    kind = widest_kind(numeric_kind(base), numeric_kind(exponent))
    if to_double(base) == 0 and to_double(exponent) < 0:
        fail("$pow cannot take a base of 0 and a negative exponent", code=28764)
    if kind == "decimal":
        if to_decimal(exponent) == 0:
            return make_decimal(decimal.Decimal(1))  # IEEE 754 pow: anything to the 0 is 1
        with decimal.localcontext(DECIMAL_CONTEXT):
            return make_decimal(to_decimal(base) ** to_decimal(exponent))
    if kind == "double" or int(exponent) < 0:
        return math.pow(to_double(base), to_double(exponent))
    result = int(base) ** int(exponent)
    if not INT64_MIN <= result <= INT64_MAX:
        return math.pow(to_double(base), to_double(exponent))
    return integral(result, kind)


def _round_or_trunc(name: str, rounding: str) -> None:
    @operator(name)
    def handler(scope: Scope, argument: Any) -> Any:
        number, *place_arg = scope.args(name, argument, 1, 2)
        if is_nullish(number) or (place_arg and is_nullish(place_arg[0])):
            return None
        if not is_number(number):
            fail(f"{name} only supports numeric types, not {type_name(number)}", code=51081)
        place = require_integral(place_arg[0], f"precision argument to {name}") if place_arg else 0
        if not -20 <= place <= 100:
            fail(f"cannot apply {name} with precision value {place} value must be in [-20, 100]")
        kind = numeric_kind(number)
        if kind in ("int", "long") and place >= 0:
            return number
        quantum = decimal.Decimal(1).scaleb(-place)
        with decimal.localcontext(DECIMAL_CONTEXT) as context:
            if kind == "decimal":
                value = to_decimal(number)
                return (
                    number
                    if value.is_infinite()
                    else make_decimal(value.quantize(quantum, rounding))
                )
            if kind == "double":
                if not math.isfinite(number):
                    return number
                # The server converts the double to a 34-digit decimal before rounding.
                value = context.create_decimal(decimal.Decimal(number))
                return float(value.quantize(quantum, rounding))
            return integral(int(decimal.Decimal(int(number)).quantize(quantum, rounding)), kind)


_round_or_trunc("$round", decimal.ROUND_HALF_EVEN)
_round_or_trunc("$trunc", decimal.ROUND_DOWN)


def _unary(
    name: str,
    on_int: Callable[[int], Any],
    on_double: Callable[[float], Any],
    on_decimal: Callable[[decimal.Decimal], Any],
) -> None:
    @operator(name)
    def handler(scope: Scope, argument: Any) -> Any:
        (number,) = scope.args(name, argument, 1)
        if is_nullish(number):
            return None
        if not is_number(number):
            fail(f"{name} only supports numeric types, not {type_name(number)}", code=28765)
        kind = numeric_kind(number)
        if kind == "decimal":
            with decimal.localcontext(DECIMAL_CONTEXT):
                result = on_decimal(to_decimal(number))
            return make_decimal(result) if isinstance(result, decimal.Decimal) else result
        if kind == "double":
            return on_double(number)
        result = on_int(int(number))
        return integral(result, kind) if isinstance(result, int) else result


def _positive(name: str, function: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def checked(value: Any) -> Any:
        if not value > 0 and not (isinstance(value, float) and math.isnan(value)):
            fail(f"{name}'s argument must be a positive number, but is {value}")
        return function(value)

    return checked


def _non_negative(value: Any) -> Any:
    if value < 0:
        fail("$sqrt's argument must be greater than or equal to 0", code=28714)
    return value


def _keep_special(function: Callable[[float], float]) -> Callable[[float], float]:
    return lambda value: value if not math.isfinite(value) else float(function(value))


_unary("$abs", abs, abs, abs)
_unary(
    "$ceil",
    lambda v: v,
    _keep_special(math.ceil),
    lambda d: d.to_integral_value(decimal.ROUND_CEILING),
)
_unary(
    "$floor",
    lambda v: v,
    _keep_special(math.floor),
    lambda d: d.to_integral_value(decimal.ROUND_FLOOR),
)
_unary("$exp", lambda v: math.exp(v), math.exp, lambda d: d.exp())
_unary(
    "$sqrt",
    lambda v: math.sqrt(_non_negative(v)),
    lambda v: math.sqrt(_non_negative(v)),
    lambda d: _non_negative(d).sqrt(),
)
_unary(
    "$ln",
    _positive("$ln", math.log),
    _positive("$ln", math.log),
    _positive("$ln", lambda d: d.ln()),
)
_unary(
    "$log10",
    _positive("$log10", math.log10),
    _positive("$log10", math.log10),
    _positive("$log10", lambda d: d.log10()),
)


@operator("$log")
def _log(scope: Scope, argument: Any) -> Any:
    values = _numbers("$log", scope.args("$log", argument, 2))
    if values is None:
        return None
    number, base = values
    if not to_double(number) > 0:
        fail(f"$log's argument must be a positive number, but is {number}", code=28758)
    if not to_double(base) > 0 or to_double(base) == 1:
        fail(f"$log's base must be a positive number not equal to 1, but is {base}", code=28759)
    if "decimal" in (numeric_kind(number), numeric_kind(base)):
        with decimal.localcontext(DECIMAL_CONTEXT):
            return make_decimal(to_decimal(number).ln() / to_decimal(base).ln())
    return math.log(to_double(number)) / math.log(to_double(base))
