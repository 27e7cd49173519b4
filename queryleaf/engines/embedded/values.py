"""BSON value helpers shared by the operators: missing vs null, numeric kinds, type names.

Inside the embedded engine every datetime is a naive UTC datetime with millisecond precision
(what mongomock-ng stores); values arriving timezone-aware are normalised with `as_utc`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from typing import Any, NoReturn

from bson import Binary, Code, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp
from bson.decimal128 import create_decimal128_context
from mongomock_ng import OperationFailure
from mongomock_ng.aggregate import NOTHING

from . import decimal_bits

# mongomock-ng's marker for "this field does not exist"; MongoDB calls it missing.
MISSING: Any = NOTHING

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# Decimal128 arithmetic: 34 digits, round half to even, like the server's IEEE 754-2008 decimal.
DECIMAL_CONTEXT = create_decimal128_context()
_ROUNDING = create_decimal128_context()  # make_decimal's own (its flags are never read)


def fail(message: str, code: int | None = None) -> NoReturn:
    """Raise the error a MongoDB server would return for a bad expression or stage."""
    raise OperationFailure(message, code=code)


def is_nullish(value: Any) -> bool:
    return value is None or value is MISSING


def is_number(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)) or isinstance(
        value, Decimal128
    )


def numeric_kind(value: Any) -> str:
    """'int', 'long', 'double' or 'decimal': the BSON type a number has (or would be stored as)."""
    if isinstance(value, Decimal128):
        return "decimal"
    if isinstance(value, float):
        return "double"
    if isinstance(value, Int64) or not INT32_MIN <= value <= INT32_MAX:
        return "long"
    return "int"


def widest_kind(*kinds: str) -> str:
    order = ("int", "long", "double", "decimal")
    return max(kinds, key=order.index)


def integral(value: int, kind: str = "int") -> int:
    """`value` as the narrowest integer type allowed by `kind` (an int becomes long when it
    no longer fits in 32 bits, as the server does)."""
    if not INT64_MIN <= value <= INT64_MAX:
        fail("integer overflow")
    if kind == "long" or not INT32_MIN <= value <= INT32_MAX:
        return Int64(value)
    return int(value)


def to_decimal(value: Any) -> decimal.Decimal:
    """A number as a Python Decimal; doubles keep 15 significant digits like the server."""
    if isinstance(value, Decimal128):
        return decimal_bits.to_decimal(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return decimal.Decimal(value)
        return decimal.Decimal(f"{value:.14e}")
    return decimal.Decimal(int(value))


def exact_decimal(value: Any) -> decimal.Decimal:
    """A number as an exact Decimal (doubles converted bit for bit), for comparisons."""
    if isinstance(value, Decimal128):
        return decimal_bits.to_decimal(value)
    return decimal.Decimal(value)


def make_decimal(value: decimal.Decimal) -> Decimal128:
    return decimal_bits.from_decimal(_ROUNDING.create_decimal(value))


def to_double(value: Any) -> float:
    if isinstance(value, Decimal128):
        return float(decimal_bits.to_decimal(value))
    return float(value)


def as_utc(value: dt.datetime) -> dt.datetime:
    """A datetime as naive UTC truncated to milliseconds, the engine's internal form."""
    if value.tzinfo is not None and value.utcoffset() is not None:
        value = (value - value.utcoffset()).replace(tzinfo=None)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def utc_now() -> dt.datetime:
    return as_utc(dt.datetime.now(dt.UTC))


def format_double(value: float) -> str:
    """A double as the server prints it in $toString/$concat coercions (C's %g)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "-Infinity" if value < 0 else "Infinity"
    if value == 0 and math.copysign(1.0, value) < 0:
        return "-0"
    return "%g" % value  # noqa: UP031 - %g is exactly the server's format


def format_date(value: dt.datetime) -> str:
    value = as_utc(value)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def type_name(value: Any) -> str:
    """The name $type returns for a value."""
    if value is MISSING:
        return "missing"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if is_number(value):
        return numeric_kind(value)
    names: list[tuple[type | tuple[type, ...], str]] = [
        (Code, "javascript"),  # before str: bson.Code subclasses str
        (str, "string"),
        (dict, "object"),
        (list | tuple, "array"),
        (dt.datetime, "date"),
        (ObjectId, "objectId"),
        (Binary | bytes, "binData"),
        (Regex, "regex"),
        (Timestamp, "timestamp"),
        (MinKey, "minKey"),
        (MaxKey, "maxKey"),
    ]
    for kind, name in names:
        if isinstance(value, kind):
            return name
    if hasattr(value, "pattern") and hasattr(value, "flags"):  # a compiled Python regex
        return "regex"
    return type(value).__name__


def require_integral(value: Any, what: str) -> int:
    """A number holding an integer value (any numeric type), or an error naming `what`."""
    if not is_number(value):
        fail(f"{what} must be a number, found {type_name(value)}")
    number = decimal_bits.to_decimal(value) if isinstance(value, Decimal128) else value
    finite = number.is_finite() if isinstance(number, decimal.Decimal) else math.isfinite(number)
    if not finite or number != int(number):
        fail(f"{what} must be an integral value, found {value!r}")
    return int(number)
