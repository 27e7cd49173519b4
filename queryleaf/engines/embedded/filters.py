"""Query filters ($match, find, update and delete filters), which mongomock-ng evaluates with
its own matcher. Corrections:

- `{$not: {$regex: ..., $options: "s"}}` was refused ("Unknown operator: $options");
- decimals did not compare or match equal with other numbers (NumberDecimal("1.5") vs 1.5);
- `{$type: [...]}` (a list of types), type numbers, "null" and "number" were not supported;
- `$expr` and $cond/$switch conditions used Python's truthiness, not MongoDB's;
- `$and`/`$or`/`$nor` dropped the pipeline's variables, so `$$var` in an `$expr` under them
  (a $lookup's `let`) was undefined;
- booleans equalled and compared with numbers (`{a: 1}` matched `true`, `{a: {$in: [0]}}`
  matched `false`); in MongoDB a boolean and a number are different types;
- `$in`/`$nin` compared a scalar field, wrapped in a list, with array values
  (`{a: {$in: [[1]]}}` matched `a: 1`).
"""

from __future__ import annotations

from typing import Any

from bson import Decimal128
from mongomock_ng import aggregate, filtering, helpers

from .operators_compare import truthy
from .values import MISSING, exact_decimal, fail, is_number, type_name

# $type accepts BSON type numbers as well as names.
_TYPE_CODES = {1: "double", 2: "string", 3: "object", 4: "array", 5: "binData", 6: "undefined",
               7: "objectId", 8: "bool", 9: "date", 10: "null", 11: "regex", 13: "javascript",
               16: "int", 17: "timestamp", 18: "long", 19: "decimal", -1: "minKey", 127: "maxKey"}  # fmt: skip


def install() -> None:
    filtering.register_parse_expression(_expr_matches)
    helpers.mongodb_to_bool = truthy
    _patch_not()
    _patch_numbers()
    _patch_logical_variables()
    filtering._filterer_inst._operator_map["$type"] = _type_matches
    filtering._filterer_inst._operator_map["$in"] = _in
    filtering._filterer_inst._operator_map["$nin"] = lambda value, search: not _in(value, search)


def _expr_matches(expression: Any, document: dict, user_vars: dict | None = None) -> bool:
    return truthy(aggregate._parse_expression(expression, document, user_vars=user_vars))


_LOGICAL = {"$and", "$or", "$nor"}


def _patch_logical_variables() -> None:
    original = filtering._Filterer.apply

    def apply(self: Any, search_filter: Any, document: dict, user_vars: dict | None = None) -> bool:
        if (
            not user_vars
            or not isinstance(search_filter, dict)
            or not _LOGICAL & set(search_filter)
        ):
            return original(self, search_filter, document, user_vars=user_vars)
        rest = {}
        for key, branches in search_filter.items():
            if key not in _LOGICAL:
                rest[key] = branches
                continue
            if not isinstance(branches, list) or not branches:
                fail(f"{key} must be a nonempty array", code=2)
            matches = [apply(self, branch, document, user_vars) for branch in branches]
            passed = (
                any(matches)
                if key == "$or"
                else all(matches)
                if key == "$and"
                else not any(matches)
            )
            if not passed:
                return False
        return original(self, rest, document, user_vars=user_vars) if rest else True

    filtering._Filterer.apply = apply


def _patch_not() -> None:
    original = filtering._Filterer._not_op

    def not_op(self: Any, document: Any, key: str, search: Any) -> bool:
        if isinstance(search, dict) and "$regex" in search and "$options" in search:
            search = filtering._combine_regex_options(search)
        return original(self, document, key, search)

    filtering._Filterer._not_op = not_op


def _mixed_decimal(a: Any, b: Any) -> bool:
    return (
        (isinstance(a, Decimal128) or isinstance(b, Decimal128)) and is_number(a) and is_number(b)
    )


def _bool_and_number(a: Any, b: Any) -> bool:
    """One is a boolean, the other a number (which Python's == and < mix up)."""
    a_bool, b_bool = isinstance(a, bool), isinstance(b, bool)
    return a_bool != b_bool and (is_number(b) if a_bool else is_number(a))


def _patch_numbers() -> None:
    original_compare = filtering.bson_compare

    def bson_compare(op: Any, a: Any, b: Any, can_compare_types: bool = True) -> bool:
        if _bool_and_number(a, b):
            # Different types: a query comparison does not match; ordering (sorts, arrays
            # compared element by element) puts numbers before booleans.
            return can_compare_types and op(isinstance(a, bool), isinstance(b, bool))
        if _mixed_decimal(a, b):
            return op(exact_decimal(a), exact_decimal(b))
        return original_compare(op, a, b, can_compare_types)

    original_eq = filtering.operator_eq

    def operator_eq(doc_value: Any, search_value: Any) -> bool:
        if _bool_and_number(doc_value, search_value):
            return False
        if _mixed_decimal(doc_value, search_value):
            return exact_decimal(doc_value) == exact_decimal(search_value)
        if isinstance(doc_value, list) and isinstance(search_value, list):
            return len(doc_value) == len(search_value) and all(
                operator_eq(a, b) for a, b in zip(doc_value, search_value, strict=True)
            )
        if isinstance(doc_value, dict) and isinstance(search_value, dict):
            return doc_value.keys() == search_value.keys() and all(
                operator_eq(doc_value[k], search_value[k]) for k in doc_value
            )
        return original_eq(doc_value, search_value)

    filtering.bson_compare = bson_compare
    filtering.operator_eq = operator_eq
    # The shared matcher captured the old equality function when it was built.
    operators = filtering._filterer_inst._operator_map
    operators["$eq"] = filtering._list_expand(operator_eq)
    operators["$ne"] = filtering._list_expand(lambda a, b: not operator_eq(a, b), negative=True)


def _in(value: Any, search: Any) -> bool:
    """`$in`: the field's value, or (for an array) one of its elements, equals one of the
    listed values or matches one of the listed regexes; null also matches a missing field."""
    if not isinstance(search, list | tuple):
        fail("$in needs an array", code=2)
    if value is filtering.NOTHING:
        return None in search
    items = value if isinstance(value, list) else [value]
    for wanted in search:
        if isinstance(wanted, filtering._RE_TYPES):
            if any(filtering._regex(item, wanted) for item in items):
                return True
        elif any(filtering.operator_eq(item, wanted) for item in items) or (
            isinstance(value, list) and filtering.operator_eq(value, wanted)
        ):
            return True
    return False


def _type_matches(doc_value: Any, search: Any) -> bool:
    wanted = set()
    for item in search if isinstance(search, list) else [search]:
        name = _TYPE_CODES.get(item, item) if not isinstance(item, bool) else item
        if name not in _TYPE_CODES.values() and name != "number":
            fail(f"unknown type name alias: {item}", code=2)
        wanted.add(name)

    def matches(value: Any) -> bool:
        return type_name(value) in wanted or ("number" in wanted and is_number(value))

    if doc_value is MISSING:
        return False
    # An array matches "array", and also any type one of its elements has.
    return matches(doc_value) or (
        isinstance(doc_value, list) and any(matches(item) for item in doc_value)
    )
