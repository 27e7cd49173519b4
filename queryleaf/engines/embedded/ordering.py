"""MongoDB's comparison order between BSON values.

Aggregation comparisons ($eq, $lt, $cmp, ...) order values first by type rank and then within
a type: MinKey < missing < null < numbers < strings < objects < arrays < binData < objectId
< bool < date < timestamp < regex < MaxKey. Numbers of every type compare by value.
Sorting is slightly different (missing sorts as null, arrays by their extreme element);
`sort_value` applies those rules before comparing.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Mapping
from typing import Any

from bson import Code, Decimal128, MaxKey, MinKey, ObjectId, Regex, Timestamp

from . import decimal_bits
from .values import MISSING, as_utc, exact_decimal, is_number

_RANK_MISSING = 1
_RANK_NULL = 2
_RANK_NUMBER = 3


def type_rank(value: Any) -> int:
    if isinstance(value, MinKey):
        return 0
    if value is MISSING:
        return _RANK_MISSING
    if value is None:
        return _RANK_NULL
    if isinstance(value, bool):
        return 9
    if is_number(value):
        return _RANK_NUMBER
    if isinstance(value, Code):
        return 14
    if isinstance(value, str):
        return 4
    if isinstance(value, Mapping):
        return 5
    if isinstance(value, list | tuple):
        return 6
    if isinstance(value, bytes):
        return 7
    if isinstance(value, ObjectId):
        return 8
    if isinstance(value, dt.datetime):
        return 10
    if isinstance(value, Timestamp):
        return 11
    if isinstance(value, Regex) or hasattr(value, "pattern"):
        return 12
    if isinstance(value, MaxKey):
        return 20
    return 15


def _sign(number: float) -> int:
    return (number > 0) - (number < 0)


def _compare_numbers(a: Any, b: Any) -> int:
    a_nan = _is_nan(a)
    b_nan = _is_nan(b)
    if a_nan or b_nan:  # NaN equals NaN and sorts below every other number
        return b_nan - a_nan
    if isinstance(a, Decimal128) or isinstance(b, Decimal128):
        a, b = exact_decimal(a), exact_decimal(b)
    return (a > b) - (a < b)  # int/float/Decimal compare exactly in Python


def _is_nan(value: Any) -> bool:
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, Decimal128) and decimal_bits.to_decimal(value).is_nan()


def compare(a: Any, b: Any) -> int:
    """-1, 0 or 1 as `a` sorts before, with or after `b` in MongoDB's comparison order."""
    kind = type(a)
    if kind is type(b) and (kind is str or kind is int):  # the common cases, first
        return (a > b) - (a < b)
    if b is None:  # only MinKey and missing rank below null
        return 0 if a is None else -1 if a is MISSING or isinstance(a, MinKey) else 1
    rank_a, rank_b = type_rank(a), type_rank(b)
    if rank_a != rank_b:
        return -1 if rank_a < rank_b else 1
    if rank_a == _RANK_NUMBER:
        return _compare_numbers(a, b)
    if isinstance(a, Mapping):
        return _compare_documents(a, b)
    if isinstance(a, list | tuple):
        for item_a, item_b in zip(a, b, strict=False):
            result = compare(item_a, item_b)
            if result:
                return result
        return _sign(len(a) - len(b))
    if isinstance(a, bytes):
        subtype_a, subtype_b = getattr(a, "subtype", 0), getattr(b, "subtype", 0)
        key_a, key_b = (len(a), subtype_a, bytes(a)), (len(b), subtype_b, bytes(b))
        return (key_a > key_b) - (key_a < key_b)
    if isinstance(a, ObjectId):
        a, b = a.binary, b.binary
    elif isinstance(a, dt.datetime):
        a, b = as_utc(a), as_utc(b)
    elif isinstance(a, Timestamp):
        a, b = (a.time, a.inc), (b.time, b.inc)
    elif type_rank(a) == 12:
        a, b = (a.pattern, _flags(a)), (b.pattern, _flags(b))
    elif type_rank(a) in (0, 20, _RANK_MISSING, _RANK_NULL):
        return 0
    return (a > b) - (a < b)


def _flags(regex: Any) -> str:
    flags = regex.flags
    if isinstance(flags, str):
        return flags
    return "".join(
        letter for letter, bit in (("i", 2), ("m", 8), ("s", 16), ("x", 64)) if flags & bit
    )


def _compare_documents(a: Mapping, b: Mapping) -> int:
    # Field by field: the value's type first, then the field name, then the value.
    for (key_a, value_a), (key_b, value_b) in zip(a.items(), b.items(), strict=False):
        rank_a, rank_b = type_rank(value_a), type_rank(value_b)
        if rank_a != rank_b:
            return -1 if rank_a < rank_b else 1
        if key_a != key_b:
            return -1 if key_a < key_b else 1
        result = compare(value_a, value_b)
        if result:
            return result
    return _sign(len(a) - len(b))


def equal(a: Any, b: Any) -> bool:
    return compare(a, b) == 0


sort_key = functools.cmp_to_key(compare)


def canonical(value: Any) -> Any:
    """A hashable stand-in for `value`, equal for values MongoDB considers equal (1 == 1.0 ==
    NumberDecimal("1.00")), used to group and deduplicate."""
    rank = type_rank(value)
    if rank == _RANK_NUMBER:
        return (rank, "NaN") if _is_nan(value) else (rank, exact_decimal(value))
    if isinstance(value, Mapping):
        return (rank, tuple((key, canonical(item)) for key, item in value.items()))
    if isinstance(value, list | tuple):
        return (rank, tuple(canonical(item) for item in value))
    if isinstance(value, dt.datetime):
        return (rank, as_utc(value))
    if isinstance(value, bytes):
        return (rank, getattr(value, "subtype", 0), bytes(value))
    if rank == 12:
        return (rank, value.pattern, _flags(value))
    if rank == 15:
        return (rank, repr(value))
    return (rank, value)


def sort_value(value: Any, descending: bool) -> Any:
    """The value a document sorts by: missing sorts as null; an array by its smallest element
    ascending (largest descending); an empty array before null."""
    if value is MISSING:
        return None
    if isinstance(value, list | tuple):
        if not value:
            return MISSING  # ranks just below null, like the server's `undefined`
        items = [None if item is MISSING else item for item in value]
        return (max if descending else min)(items, key=sort_key)
    return value
