"""Comparing a stored number with a literal that has a decimal point (`price = 19.99`).

The literal is a double in the plan, and MongoDB compares numbers of different types by
their exact values: the double 19.99 is 19.989999999999998..., so a DECIMAL field holding
19.99 would not equal it (and would be greater than it). MySQL reads 19.99 as the exact
decimal. So a comparison with such a literal names both forms: `= 19.99` is
`{$in: [19.99, NumberDecimal("19.99")]}` (each stored type meets its own), `<> 19.99` is
`$nin` of both, and a range takes whichever form gives the right answer for both types
(`> 19.99` is `> NumberDecimal("19.99")`, since no double lies between the two; `>= 19.99`
is `>= 19.99`, the double). Doubles compare exactly as MySQL compares them; decimals do too
unless they carry more than about 16 significant digits.
"""

from __future__ import annotations

import decimal
import math
from typing import Any

from bson import Decimal128


def decimal_form(value: Any) -> Decimal128 | None:
    """The decimal a double literal was written as, when it differs from the double's
    exact value (19.99, 0.1); None for other values (2.5, 3.0, integers, text)."""
    if not isinstance(value, float) or not math.isfinite(value) or value.is_integer():
        return None
    written = decimal.Decimal(repr(value))
    if written == decimal.Decimal(value):
        return None
    return Decimal128(written)


def range_bound(op: str, value: float, written: Decimal128) -> Any:
    """The bound for `field op literal` that is right for doubles and decimals alike."""
    above = decimal.Decimal(value) > written.to_decimal()  # the double lies above the decimal
    if op in ("$gt", "$lte"):
        return value if above else written
    return written if above else value  # $gte, $lt


def with_decimal_forms(values: list[Any]) -> list[Any]:
    """An IN list with the decimal each double literal was written as (`IN (19.99)` meets a
    DECIMAL 19.99 as well as the double)."""
    extra = [written for written in map(decimal_form, values) if written is not None]
    return [*values, *extra] if extra else values
