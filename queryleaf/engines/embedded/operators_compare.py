"""Comparison expression operators, $in, $not and MongoDB's truthiness.

mongomock-ng treats a missing field as equal to null and never lower than anything, and cannot
compare decimals with other numbers. The server compares missing as its own type, ranked just
below null: {$eq: ["$missing", null]} is false and {$lte: ["$missing", null]} is true.
mongomock-ng also took `{$not: [expr]}` as the truth of the list itself (always false).
"""

from __future__ import annotations

from typing import Any

from bson import Decimal128

from . import decimal_bits
from .ordering import compare, equal
from .registry import Scope, operator
from .values import MISSING, fail, type_name

_TESTS = {
    "$eq": lambda order: order == 0,
    "$ne": lambda order: order != 0,
    "$gt": lambda order: order > 0,
    "$gte": lambda order: order >= 0,
    "$lt": lambda order: order < 0,
    "$lte": lambda order: order <= 0,
}


def truthy(value: Any) -> bool:
    """MongoDB's boolean coercion: false, null, missing and numeric zeros are false."""
    if value is None or value is MISSING or value is False:
        return False
    if isinstance(value, Decimal128):
        return not decimal_bits.to_decimal(value).is_zero()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value != 0
    return True


def _make_comparison(name: str) -> None:
    test = _TESTS[name]

    @operator(name)
    def handler(scope: Scope, argument: Any) -> bool:
        left, right = scope.args(name, argument, 2)
        return test(compare(left, right))


for _name in _TESTS:
    _make_comparison(_name)


@operator("$cmp")
def _cmp(scope: Scope, argument: Any) -> int:
    left, right = scope.args("$cmp", argument, 2)
    return compare(left, right)


@operator("$in")
def _in(scope: Scope, argument: Any) -> bool:
    value, array = scope.args("$in", argument, 2)
    if not isinstance(array, list):
        fail(f"$in requires an array as a second argument, found: {type_name(array)}", code=40081)
    return any(equal(value, item) for item in array)


@operator("$not")
def _not(scope: Scope, argument: Any) -> bool:
    # `{$not: [expr]}` and `{$not: expr}` are the same; mongomock-ng took the list as truthy.
    (value,) = scope.args("$not", argument, 1)
    return not truthy(value)
