"""Type conversion ($convert and the $toX shorthands), $type and $isNumber.

mongomock-ng raised on null for $toInt, ignored onNull for a missing input, treated an explicit
`onError: null` as absent, printed 3.0 as "3.0" (the server prints doubles with %g: "3"),
dropped the milliseconds of dates without a fraction, and knew neither decimal nor objectId in
$type nor decimals in $isNumber.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from collections.abc import Callable
from typing import Any

from bson import Decimal128, ObjectId, Timestamp
from mongomock_ng import OperationFailure

from .registry import Scope, operator
from .values import (
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    MISSING,
    as_utc,
    format_date,
    format_double,
    integral,
    is_nullish,
    is_number,
    make_decimal,
    numeric_kind,
    to_decimal,
    type_name,
)

_EPOCH = dt.datetime(1970, 1, 1)
_DOUBLE_TEXT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(inf|infinity|nan)", re.I)
_INTEGER_TEXT = re.compile(r"[+-]?\d+")


class ConversionError(OperationFailure):
    """A value that cannot be converted; $convert answers `onError` for these only."""


def _refuse(value: Any, target: str, detail: str = "") -> ConversionError:
    message = f"Unsupported conversion from {type_name(value)} to {target} in $convert with no onError value"
    return ConversionError(message + (f": {detail}" if detail else ""), code=241)


def _ms(value: dt.datetime) -> int:
    return (as_utc(value) - _EPOCH) // dt.timedelta(milliseconds=1)


def _to_double(value: Any) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if is_number(value):
        return float(value.to_decimal()) if isinstance(value, Decimal128) else float(value)
    if isinstance(value, str):
        if not _DOUBLE_TEXT.fullmatch(value):
            raise _refuse(value, "double", f"Failed to parse number '{value}'")
        return float(value)
    if isinstance(value, dt.datetime):
        return float(_ms(value))
    raise _refuse(value, "double")


def _whole(value: Any, target: str, low: int, high: int) -> int:
    """Numbers truncate toward zero; strings must be base-10 integers; both must fit."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        if not _INTEGER_TEXT.fullmatch(value):
            raise _refuse(value, target, f"Failed to parse number '{value}'")
        number = int(value)
    elif is_number(value):
        exact = to_decimal(value) if isinstance(value, Decimal128) else value
        if (isinstance(exact, float) and not math.isfinite(exact)) or (
            isinstance(exact, decimal.Decimal) and not exact.is_finite()
        ):
            raise _refuse(value, target, "Attempt to convert NaN or infinity")
        number = int(exact)
    elif isinstance(value, dt.datetime) and target == "long":
        number = _ms(value)
    else:
        raise _refuse(value, target)
    if not low <= number <= high:
        raise _refuse(value, target, "Conversion would overflow target type")
    return number


def _to_int(value: Any) -> int:
    return int(_whole(value, "int", INT32_MIN, INT32_MAX))


def _to_long(value: Any) -> int:
    return integral(_whole(value, "long", INT64_MIN, INT64_MAX), "long")


def _to_decimal(value: Any) -> Decimal128:
    if isinstance(value, bool):
        return Decimal128("1" if value else "0")
    if is_number(value):
        return value if isinstance(value, Decimal128) else make_decimal(to_decimal(value))
    if isinstance(value, str):
        try:
            return make_decimal(decimal.Decimal(value))
        except decimal.InvalidOperation:
            raise _refuse(value, "decimal", f"Failed to parse number '{value}'") from None
    if isinstance(value, dt.datetime):
        return Decimal128(str(_ms(value)))
    raise _refuse(value, "decimal")


def to_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_double(value)
    if isinstance(value, Decimal128):
        return str(value)
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, dt.datetime):
        return format_date(value)
    if isinstance(value, ObjectId):
        return str(value)
    raise _refuse(value, "string")


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if is_number(value):
        return not to_decimal(value).is_zero() if isinstance(value, Decimal128) else value != 0
    return True


def _to_date(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return as_utc(value)
    if isinstance(value, ObjectId):
        return as_utc(value.generation_time)
    if isinstance(value, Timestamp):
        return _EPOCH + dt.timedelta(seconds=value.time)
    if is_number(value) and not isinstance(value, bool) and numeric_kind(value) != "int":
        return _EPOCH + dt.timedelta(milliseconds=_whole(value, "date", INT64_MIN, INT64_MAX))
    if isinstance(value, str):
        return as_utc(parse_iso_date(value))
    raise _refuse(value, "date")


def parse_iso_date(text: str) -> dt.datetime:
    """ISO-8601 forms the server's date parser accepts: date, date-time (' ' or 'T'), 'Z' or
    an offset, optional fraction. Naive when the text has no offset."""
    try:
        return dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise _refuse(text, "date", f"Error parsing date string '{text}'") from None


def _to_object_id(value: Any) -> ObjectId:
    if isinstance(value, ObjectId):
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9a-fA-F]{24}", value):
        return ObjectId(value)
    raise _refuse(value, "objectId", f"Failed to parse objectId '{value}'")


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "double": _to_double,
    "string": to_string,
    "objectId": _to_object_id,
    "bool": _to_bool,
    "date": _to_date,
    "int": _to_int,
    "long": _to_long,
    "decimal": _to_decimal,
}
_TYPE_CODES = {
    1: "double",
    2: "string",
    7: "objectId",
    8: "bool",
    9: "date",
    16: "int",
    18: "long",
    19: "decimal",
}
_OTHER_TYPES = {"minKey", "missing", "object", "array", "binData", "undefined", "null", "regex",
                "dbPointer", "javascript", "symbol", "javascriptWithScope", "timestamp", "maxKey"}  # fmt: skip


def _target(to: Any) -> str:
    if isinstance(to, str) and (to in CONVERTERS or to in _OTHER_TYPES):
        return to
    if is_number(to) and not isinstance(to, bool) and int(to) in _TYPE_CODES:
        return _TYPE_CODES[int(to)]
    raise OperationFailure(f"Unknown type name: {to}", code=2)


@operator("$convert")
def _convert(scope: Scope, argument: Any) -> Any:
    spec = scope.named("$convert", argument, ("input", "to"), ("onError", "onNull"))
    value = scope.eval(spec["input"])
    if is_nullish(value):
        return scope.eval(spec["onNull"]) if "onNull" in spec else None
    to = scope.eval(spec["to"])
    if is_nullish(to):
        return None
    target = _target(to)
    try:
        if target not in CONVERTERS:
            raise _refuse(value, target)
        return CONVERTERS[target](value)
    except ConversionError:
        if "onError" in spec:
            return scope.eval(spec["onError"])  # may be $$REMOVE: then the field is missing
        raise


def _register_shorthand(name: str, target: str) -> None:
    @operator(name)
    def handler(scope: Scope, argument: Any) -> Any:
        (value,) = scope.args(name, argument, 1)
        return None if is_nullish(value) else CONVERTERS[target](value)


for _name, _target_name in {
    "$toDouble": "double",
    "$toString": "string",
    "$toObjectId": "objectId",
    "$toBool": "bool",
    "$toDate": "date",
    "$toInt": "int",
    "$toLong": "long",
    "$toDecimal": "decimal",
}.items():
    _register_shorthand(_name, _target_name)


@operator("$type")
def _type(scope: Scope, argument: Any) -> str:
    (value,) = scope.args("$type", argument, 1)
    return type_name(value)


@operator("$isNumber")
def _is_number(scope: Scope, argument: Any) -> bool:
    (value,) = scope.args("$isNumber", argument, 1)
    return value is not MISSING and is_number(value)
