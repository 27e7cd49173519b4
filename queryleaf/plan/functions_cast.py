"""CAST and CONVERT: to SIGNED (integers), DECIMAL(p, s), DOUBLE, CHAR[(n)], DATE, DATETIME
and BOOLEAN, as MySQL converts. Text becomes a number by its longest numeric prefix ('12abc'
is 12, 'abc' is 0); numbers and dates become text as MySQL prints them (value_text).
Registered in queryleaf.plan.function_registry."""

from __future__ import annotations

import decimal
import re
from typing import TYPE_CHECKING, Any

from bson import Decimal128, Int64
from sqlglot import exp

from queryleaf.errors import SemanticError, UnsupportedError
from queryleaf.plan import mql
from queryleaf.plan.function_registry import TYPED
from queryleaf.plan.value_text import text_of

if TYPE_CHECKING:
    from queryleaf.plan.expressions import ExprCompiler

CAST_TARGETS: dict[exp.DataType.Type, str] = {}
for _name, _types in {
    "long": ["BIGINT", "INT", "SMALLINT", "TINYINT", "MEDIUMINT", "UBIGINT", "UINT"],
    "double": ["DOUBLE", "FLOAT"],
    "decimal": ["DECIMAL", "BIGDECIMAL"],
    "string": ["CHAR", "VARCHAR", "TEXT", "NCHAR", "NVARCHAR"],
    "date": ["DATE", "DATETIME", "TIMESTAMP", "TIMESTAMPTZ"],
    "bool": ["BOOLEAN"],
    "objectId": [],
}.items():
    for _type in _types:
        if hasattr(exp.DataType.Type, _type):
            CAST_TARGETS[exp.DataType.Type[_type]] = _name


def _cast(compiler: ExprCompiler, node: exp.Expression) -> Any:
    target = node.to.this
    kind = CAST_TARGETS.get(target)
    if kind is None:
        raise UnsupportedError(
            f"CAST to {node.to.sql('mysql')} is not supported",
            node=node,
            hint="cast to SIGNED, DECIMAL, DOUBLE, CHAR, DATE, DATETIME or BOOLEAN",
            code="QL202",
        )
    x = compiler.value(node.this)
    if kind == "date" and target == exp.DataType.Type.DATE:
        converted = {"$convert": {"input": x, "to": "date", "onError": None, "onNull": None}}
        return {"$dateTrunc": {"date": converted, "unit": "day"}}
    if kind == "long":
        return _cast_integer(x, approximate=_double_literal(node.this))
    if kind == "decimal":
        precision, scale = _type_params(node, default=(10, 0))
        return _cast_decimal(x, precision, scale, node)
    converted = {"$convert": {"input": x, "to": kind, "onError": None, "onNull": None}}
    if kind == "string":
        converted = text_of(x)
    if kind == "double":
        converted = _cast_text_number(x, "double")
    if kind == "string" and node.to.expressions:
        (length,) = _type_params(node, default=(None,))[:1]
        if length is not None:
            cut = {"$substrCP": ["$$qc", 0, length]}
            return {"$let": {"vars": {"qc": converted}, "in": mql.null_guard(["$$qc"], cut)}}
    return converted


def _type_params(node: exp.Expression, default: tuple[Any, ...]) -> tuple[Any, ...]:
    """The constant parameters of a cast's type (DECIMAL(10, 2), CHAR(3)), else `default`."""
    params = []
    for param in node.to.expressions:
        value = param.this if isinstance(param, exp.DataTypeParam) else param
        if not (isinstance(value, exp.Literal) and not value.is_string):
            raise UnsupportedError(
                f"CAST to {node.to.sql('mysql')} needs numeric type parameters",
                node=node,
                code="QL202",
            )
        params.append(int(value.this))
    return tuple(params) + default[len(params) :] if params else default


def half_away_from_zero(x: str) -> Any:
    """The variable `x` rounded to a whole number, half away from zero, exactly: the
    fraction $trunc leaves decides ($round rounds half to even)."""
    away = {"$add": ["$$qt", {"$cond": [{"$lt": [x, 0]}, -1, 1]}]}
    fraction = {"$abs": {"$subtract": [x, "$$qt"]}}
    return {
        "$let": {
            "vars": {"qt": {"$trunc": [x, 0]}},
            "in": {"$cond": [{"$gte": [fraction, 0.5]}, away, "$$qt"]},
        }
    }


_NUMBER_PREFIX = r"^[ \t\n\r]*([+-]?([0-9]+(\.[0-9]+)?|\.[0-9]+)([eE][+-]?[0-9]+)?)"
_INTEGER_PREFIX = r"^[ \t\n\r]*([+-]?[0-9]+)"


def _cast_text_number(x: Any, to: str) -> Any:
    """`x` converted to `to` ("long", "double", "decimal"), text read as MySQL reads a
    number: its longest numeric prefix ('12abc' is 12, '1e3' is 1000, or 1 as an integer),
    0 when there is none ('abc'); other values through $convert (NULL when they do not
    convert)."""
    regex = _INTEGER_PREFIX if to == "long" else _NUMBER_PREFIX
    zero: Any = {"long": 0, "double": 0.0, "decimal": Decimal128("0")}[to]
    if mql.is_constant(x) and isinstance(mql.constant_of(x), str):
        found = re.match(regex, mql.constant_of(x))
        if found is None:
            return zero
        return {"$convert": {"input": found.group(1), "to": to, "onError": None}}
    captured = {"$arrayElemAt": [{"$getField": {"field": "captures", "input": "$$qf"}}, 0]}
    prefix = {
        "$let": {
            "vars": {"qf": {"$regexFind": {"input": "$$qx", "regex": regex}}},
            "in": {
                "$cond": [
                    {"$eq": ["$$qf", None]},
                    zero,
                    {"$convert": {"input": captured, "to": to, "onError": None}},
                ]
            },
        }
    }
    other = {"$convert": {"input": "$$qx", "to": to, "onError": None, "onNull": None}}
    body = {"$cond": [{"$eq": [{"$type": "$$qx"}, "string"]}, prefix, other]}
    return {"$let": {"vars": {"qx": x}, "in": body}}


def _double_literal(node: exp.Expression) -> bool:
    """A number written with an exponent (`2.5e0`, `-1e3`): a DOUBLE in MySQL, where `2.5`
    is an exact DECIMAL."""
    if isinstance(node, exp.Neg | exp.Paren):
        return _double_literal(node.this)
    return isinstance(node, exp.Literal) and not node.is_string and "e" in node.this.lower()


def _cast_integer(x: Any, approximate: bool = False) -> Any:
    """CAST(x AS SIGNED): exact numbers round half away from zero, doubles half to even, as
    MySQL rounds them; text is read by its integer prefix, as MySQL reads it."""
    if mql.is_constant(x):
        value = mql.constant_of(x)
        if value is None:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) < 2**62:
            rounding = decimal.ROUND_HALF_EVEN if approximate else decimal.ROUND_HALF_UP
            return int(decimal.Decimal(repr(value)).quantize(1, rounding))
    # A double rounds half to even (MySQL rounds approximate values with rint), an exact
    # value half away from zero; beyond the range of BIGINT the value is clamped.
    whole = {
        "$cond": [
            {"$eq": [{"$type": "$$qc"}, "double"]},
            {"$round": ["$$qc", 0]},
            half_away_from_zero("$$qc"),
        ]
    }
    converted = {"$convert": {"input": whole, "to": "long", "onError": None}}
    rounded = {
        "$switch": {
            "branches": [
                {"case": {"$gte": ["$$qc", 2.0**63]}, "then": Int64(2**63 - 1)},
                {"case": {"$lte": ["$$qc", -(2.0**63)]}, "then": Int64(-(2**63))},
            ],
            "default": converted,
        }
    }
    other = _cast_text_number("$$qc", "long")
    return {"$let": {"vars": {"qc": x}, "in": {"$cond": [{"$isNumber": "$$qc"}, rounded, other]}}}


def _cast_decimal(x: Any, precision: int, scale: int, node: exp.Expression) -> Any:
    """CAST(x AS DECIMAL(p, s)): a decimal128 rounded to s places half away from zero and
    clamped to the largest value with p digits, as MySQL does. The rounding runs in decimal
    arithmetic, so 2.675 rounds to 2.68 although the double is slightly below it."""
    if not 0 <= scale <= precision or precision < 1:
        raise SemanticError(
            f"{node.to.sql('mysql')}: the scale must be between 0 and the precision",
            node=node,
            code="QL304",
        )
    shifted: Any = _cast_text_number(x, "decimal")
    factor = 10**scale if scale <= 18 else Decimal128(f"1E{scale}")
    if scale:
        shifted = {"$multiply": [shifted, factor]}
    clamped = half_away_from_zero("$$qn")
    if precision <= 34:  # decimal128 holds 34 digits: wider limits cannot be reached
        limit = Decimal128("9" * precision)
        clamped = {"$min": [{"$max": [clamped, Decimal128("-" + "9" * precision)]}, limit]}
    result = {"$divide": [clamped, factor]} if scale else clamped
    return {"$let": {"vars": {"qn": shifted}, "in": mql.null_guard(["$$qn"], result)}}


TYPED.update({exp.Cast: _cast, exp.TryCast: _cast})
