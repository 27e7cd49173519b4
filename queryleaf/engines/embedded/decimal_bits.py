"""Decimal128 <-> decimal.Decimal conversions without bson's per-digit loops.

bson's `Decimal128.to_decimal()` and `Decimal128(Decimal)` build the coefficient digit by digit
and bit by bit; arithmetic on decimals converts every operand and result, so they dominated
decimal-heavy expressions. These read and write the IEEE 754-2008 BID encoding directly and
give exactly bson's results (same coefficient, exponent and sign); NaN, infinities and the
non-canonical encodings still go through bson.
"""

from __future__ import annotations

import decimal

from bson import Decimal128

_INF = 0x7800000000000000  # also set for NaN
_SIGN = 0x8000000000000000
_EXPONENT_MASK = 3 << 61
_EXPONENT_BIAS = 6176
_EXPONENT_TOP = 6111  # the largest exponent of a canonical encoding
_COEFFICIENT_HIGH = 0x0001FFFFFFFFFFFF
_MAX_COEFFICIENT = 10**34 - 1
_LOW = 0xFFFFFFFFFFFFFFFF


def to_decimal(value: Decimal128) -> decimal.Decimal:
    """`value.to_decimal()`, faster."""
    high = value._Decimal128__high  # type: ignore[attr-defined]
    if (high & _INF) == _INF or (high & _EXPONENT_MASK) == _EXPONENT_MASK:
        return value.to_decimal()
    exponent = ((high & 0x7FFF800000000000) >> 49) - _EXPONENT_BIAS
    coefficient = ((high & _COEFFICIENT_HIGH) << 64) | value._Decimal128__low  # type: ignore[attr-defined]
    if coefficient > _MAX_COEFFICIENT or exponent > _EXPONENT_TOP:
        return value.to_decimal()
    # Constructing from a string is exact whatever the context.
    return decimal.Decimal(f"{'-' if high & _SIGN else ''}{coefficient}E{exponent}")


def from_decimal(value: decimal.Decimal) -> Decimal128:
    """`Decimal128(value)` for a value already rounded to 34 digits in the Decimal128 range
    (what a Decimal128 context produces), faster."""
    if not value.is_finite():
        return Decimal128(value)
    sign, digits, exponent = value.as_tuple()
    if len(digits) > 34 or not -_EXPONENT_BIAS <= exponent <= _EXPONENT_TOP:  # type: ignore[operator]
        return Decimal128(value)
    coefficient = int("".join(map(str, digits)))
    high = (coefficient >> 64) | ((exponent + _EXPONENT_BIAS) << 49)  # type: ignore[operator]
    if sign:
        high |= _SIGN
    return Decimal128((high, coefficient & _LOW))
