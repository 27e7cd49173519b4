"""MySQL's bit operators (`&`, `|`, `^`, `~`, `<<`, `>>`) as MQL, with MySQL's semantics: the
operands are rounded to 64-bit unsigned integers and so is the result (`~0` is 18446744073709551615,
`1 << 64` is 0, `-1 >> 60` is 15), NULL gives NULL.

MongoDB's $bitAnd/$bitOr/$bitXor/$bitNot (6.3+) work on signed 64-bit longs, which hold the
same 64 bits: an operand is rounded to an integer and, when it is 2^63 or more, brought into
the signed range (minus 2^64) before it goes in; a result whose top bit is set comes back as
the unsigned value, a decimal (plus 2^64). MongoDB has no shift operator, so a shift by a
constant count multiplies or divides by the power of two: `a << n` keeps the low 64-n bits
of `a` (a $bitAnd mask) and multiplies them by 2^n, `a >> n` is the floor of unsigned `a`
divided by 2^n, both exact in decimal arithmetic. A shift by a computed count is refused
(QL201)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bson import Decimal128
from sqlglot import exp

from queryleaf.errors import UnsupportedError
from queryleaf.plan import mql
from queryleaf.plan.function_registry import TYPED

if TYPE_CHECKING:
    from queryleaf.plan.expressions import ExprCompiler

TWO_63 = Decimal128("9223372036854775808")
TWO_64 = Decimal128("18446744073709551616")


def signed(value: Any) -> Any:
    """`value` rounded to an integer (half away from zero, as MySQL rounds 2.5 to 3; an
    integer stays exact), as the signed long with the same low 64 bits."""
    whole = {"$trunc": value}
    rounded = {"$add": [whole, {"$trunc": {"$multiply": [{"$subtract": [value, whole]}, 2]}}]}
    return {
        "$let": {
            "vars": {"bits_in": rounded},
            "in": {
                "$toLong": {
                    "$cond": [
                        {"$gte": ["$$bits_in", TWO_63]},
                        {"$subtract": [{"$toDecimal": "$$bits_in"}, TWO_64]},
                        "$$bits_in",
                    ]
                }
            },
        }
    }


def unsigned(value: Any) -> Any:
    """A signed long result read as MySQL's unsigned 64-bit value (null stays null)."""
    return {
        "$let": {
            "vars": {"bits_out": value},
            "in": {
                "$cond": [
                    {"$and": [{"$ne": ["$$bits_out", None]}, {"$lt": ["$$bits_out", 0]}]},
                    {"$add": [{"$toDecimal": "$$bits_out"}, TWO_64]},
                    "$$bits_out",
                ]
            },
        }
    }


def _narrow(value: Any) -> Any:
    """An exact decimal result below 2^63 as a long (what a user expects to read back)."""
    return {
        "$let": {
            "vars": {"bits_dec": value},
            "in": {
                "$cond": [
                    {"$lt": ["$$bits_dec", TWO_63]},
                    {"$toLong": "$$bits_dec"},
                    "$$bits_dec",
                ]
            },
        }
    }


def _binary(operator: str) -> Any:
    def build(compiler: ExprCompiler, node: exp.Expression) -> Any:
        left = signed(compiler.value(node.this))
        right = signed(compiler.value(node.expression))
        return unsigned({operator: [left, right]})

    return build


def _bit_not(compiler: ExprCompiler, node: exp.Expression) -> Any:
    return unsigned({"$bitNot": signed(compiler.value(node.this))})


def _count(compiler: ExprCompiler, node: exp.Expression) -> int | None:
    """The constant shift count; None for NULL (the shift is then NULL, as in MySQL)."""
    value = compiler.value(node.expression)
    constant = mql.is_constant(value)
    number = mql.constant_of(value) if constant else None
    if constant and number is None:
        return None
    if isinstance(number, bool) or not isinstance(number, int):
        raise UnsupportedError(
            f"a shift by a computed amount is not supported: {node.sql('mysql')}",
            node=node.expression,
            hint="shift by a constant (x << 3), or multiply or divide by POW(2, n)",
            code="QL201",
        )
    return number


def _shift_left(compiler: ExprCompiler, node: exp.Expression) -> Any:
    count = _count(compiler, node)
    if count is None:
        return None
    value = signed(compiler.value(node.this))
    if count == 0:
        return unsigned(value)
    if not 0 < count < 64:  # a negative count is a huge unsigned one in MySQL
        return {"$multiply": [value, 0]}
    low = {"$bitAnd": [value, (1 << (64 - count)) - 1]}  # fits a signed long
    product = {"$multiply": [{"$toDecimal": low}, Decimal128(str(1 << count))]}
    return _narrow(product)


def _shift_right(compiler: ExprCompiler, node: exp.Expression) -> Any:
    count = _count(compiler, node)
    if count is None:
        return None
    value = unsigned(signed(compiler.value(node.this)))
    if count == 0:
        return value
    if not 0 < count < 64:
        return {"$multiply": [signed(compiler.value(node.this)), 0]}
    quotient = {"$floor": {"$divide": [{"$toDecimal": value}, Decimal128(str(1 << count))]}}
    return _narrow(quotient)


TYPED.update(
    {
        exp.BitwiseAnd: _binary("$bitAnd"),
        exp.BitwiseOr: _binary("$bitOr"),
        exp.BitwiseXor: _binary("$bitXor"),
        exp.BitwiseNot: _bit_not,
        exp.BitwiseLeftShift: _shift_left,
        exp.BitwiseRightShift: _shift_right,
    }
)
