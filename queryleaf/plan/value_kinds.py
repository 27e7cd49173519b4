"""What the planner knows about the values of a compiled expression, and the lighter
comparisons that knowledge allows.

SQL compares only values of comparable types; in MongoDB's aggregation expressions `$gt`
& co. compare any two values by the BSON comparison order (MinKey, null, numbers, strings,
objects, arrays, binary data, ObjectId, booleans, dates, ...). So a comparison with a
number constant is guarded: `{$and: [{$isNumber: x}, {$gt: [x, 5000]}]}`. Where the
expression can only be a number or null, the order alone already gives SQL's answer for
part of the operators:

- `x > c`, `x >= c` (c a number): null sorts below every number, so it is never greater;
  the plain `{$gt: [x, c]}` is exactly SQL's TRUE (NULL > c is NULL, not TRUE).
- `x < c`, `x <= c`, `x <> c`: null sorts below c too, so these need the NULL test, but
  only that: `{$gt: [x, null]}` (no type test: x cannot be a string or a date).

An expression is number-or-null when its outermost operator only ever returns a number or
null, or raises (MongoDB documents each of these as taking numbers, or arrays and strings
for the sizes, and refusing other operands; the arithmetic ones return null for a null or
missing operand, the sizes raise on it): arithmetic
`$multiply`, `$divide`, `$mod`, the rounding and power functions, the numeric conversions,
sizes and lengths; `$add`/`$subtract` only when every operand is itself number-or-null (a
date operand makes them return a date); `$cond`, `$switch`, `$ifNull` and `$let` when every
result they can give is. Field paths and variables are never assumed to be numbers.
NaN, decimals, -0 and large integers are numbers to both forms, so they agree there; an
operand an operator refuses raises the same error in both forms (the operator is evaluated
first either way).
"""

from __future__ import annotations

from typing import Any

from bson import Decimal128, Int64
from sqlglot import exp

from queryleaf.plan import mql

# Operators whose result is a number or null whatever their (accepted) operands are.
NUMERIC_RESULTS = frozenset(
    {
        "$multiply",
        "$divide",
        "$mod",
        "$abs",
        "$ceil",
        "$floor",
        "$round",
        "$trunc",
        "$sqrt",
        "$pow",
        "$exp",
        "$ln",
        "$log",
        "$log10",
        "$toDouble",
        "$toInt",
        "$toLong",
        "$toDecimal",
        "$size",
        "$strLenCP",
        "$strLenBytes",
    }
)
# Operators that return a number or null when all their operands do (else maybe a date).
NUMERIC_WHEN_OPERANDS = frozenset({"$add", "$subtract"})


def is_number_constant(value: Any) -> bool:
    return isinstance(value, int | float | Decimal128 | Int64) and not isinstance(value, bool)


def number_or_null(value: Any, numbers: frozenset[str] = frozenset(), depth: int = 0) -> bool:
    """True when the MQL expression `value` can only evaluate to a number or null;
    `numbers` are field references known to hold one (a group's $count, $sum, $avg)."""
    if depth > 50:
        return False
    if isinstance(value, str) and value in numbers:
        return True
    if mql.is_constant(value):
        constant = mql.constant_of(value)
        return constant is None or is_number_constant(constant)
    if not isinstance(value, dict) or len(value) != 1:
        return False  # field paths, variables, arrays
    ((operator, argument),) = value.items()
    if operator in NUMERIC_RESULTS:
        return True
    deeper = depth + 1
    if operator in NUMERIC_WHEN_OPERANDS:
        operands = argument if isinstance(argument, list) else [argument]
        return all(number_or_null(o, numbers, deeper) for o in operands)
    if operator == "$cond":
        if isinstance(argument, list) and len(argument) == 3:
            results = argument[1:]
        elif isinstance(argument, dict):
            results = [argument.get("then"), argument.get("else")]
        else:
            return False
        return all(number_or_null(r, numbers, deeper) for r in results)
    if operator == "$ifNull" and isinstance(argument, list):
        return all(number_or_null(r, numbers, deeper) for r in argument)
    if operator == "$let" and isinstance(argument, dict):
        return number_or_null(argument.get("in"), numbers, deeper)
    if operator == "$switch" and isinstance(argument, dict) and "default" in argument:
        branches = argument.get("branches")
        if not isinstance(branches, list):
            return False
        results = [b.get("then") if isinstance(b, dict) else b for b in branches]
        return all(number_or_null(r, numbers, deeper) for r in [*results, argument["default"]])
    return False


def compare_number_or_null(op: str, a: Any, b: Any, written: Decimal128 | None = None) -> Any:
    """`a op b` with SQL's answer, for `a` number-or-null and `b` a number constant (op is
    not $eq, which needs no guard at all); `written` is the decimal form of a double literal
    for `<>` (see decimal_literals)."""
    if op in ("$gt", "$gte"):
        return {op: [a, b]}
    cmp = "$$cmp"
    if op == "$ne" and written is not None:
        test: Any = {"$not": [{"$in": [cmp, [b, written]]}]}
    else:
        test = {op: [cmp, b]}
    return {"$let": {"vars": {"cmp": a}, "in": mql.and_(mql.not_null(cmp), test)}}


# SQL conditions: their value is TRUE, FALSE or NULL (MySQL's 1, 0 and NULL).
_CONDITIONS = (exp.Predicate, exp.Connector, exp.Not, exp.Boolean)


def is_condition(node: exp.Expression) -> bool:
    while isinstance(node, exp.Paren):
        node = node.this
    return isinstance(node, _CONDITIONS)


def summable(node: exp.Expression, value: Any) -> Any:
    """The value SUM and AVG add up for `node`. MySQL adds a condition as 1 or 0
    (`SUM(status = 'paid')` counts the paid rows); MongoDB's $sum and $avg skip booleans,
    so a condition is converted ($toInt: true 1, false 0, null stays null and is skipped)."""
    return {"$toInt": value} if is_condition(node) else value
