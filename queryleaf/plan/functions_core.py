"""The core scalar functions and operators: arithmetic, comparison helpers, the basic string
and math functions, conditionals, CAST and OBJECTID, each as an aggregation expression with
SQL's NULL-in, NULL-out behaviour. Registered in queryleaf.plan.function_registry."""

from __future__ import annotations

import decimal
import math
from typing import TYPE_CHECKING, Any

from bson import Decimal128
from sqlglot import exp

from queryleaf.errors import SemanticError, UnsupportedError
from queryleaf.plan import mql
from queryleaf.plan.function_registry import (
    ANONYMOUS,
    KNOWN_NAMES,
    TYPED,
    Builder,
    args,
    as_string,
)

if TYPE_CHECKING:
    from queryleaf.plan.expressions import ExprCompiler


def _unary(operator: str) -> Builder:
    def build(compiler: ExprCompiler, node: exp.Expression) -> Any:
        x = compiler.value(node.this)
        return mql.null_guard([x], {operator: x})

    return build


def arithmetic(operator: str) -> Builder:
    def build(compiler: ExprCompiler, node: exp.Expression) -> Any:
        a = compiler.value(node.this)
        b = compiler.value(node.expression)
        return {operator: [a, b]}

    return build


def _checked_division(operator: str) -> Builder:
    """Division and modulo by zero are NULL in SQL; MongoDB raises, so guard the divisor."""

    def build(compiler: ExprCompiler, node: exp.Expression) -> Any:
        a = compiler.value(node.this)
        b = compiler.value(node.expression)
        result: Any = {operator: [a, b]}
        if operator == "$intdiv":
            result = {"$trunc": [{"$divide": [a, b]}]}
        if mql.is_constant(b) and mql.constant_of(b) not in (0, None):
            return result
        return mql.cond({"$eq": [b, 0]}, None, result)

    return build


def _neg(compiler: ExprCompiler, node: exp.Expression) -> Any:
    return {"$multiply": [-1, compiler.value(node.this)]}


def _length(compiler: ExprCompiler, node: exp.Expression) -> Any:
    """LENGTH of text; of a document, its size in bytes as BSON ($bsonSize), the stored
    form's counterpart of MySQL's LENGTH of JSON text; of an array, its element count."""
    x = compiler.value(node.this)
    operator = "$strLenBytes" if node.args.get("binary") else "$strLenCP"
    text_length = {operator: as_string(x)}
    if mql.is_constant(x):
        return mql.null_guard([x], text_length)
    kind = {"$type": x}
    return mql.null_guard(
        [x],
        {
            "$switch": {
                "branches": [
                    {"case": {"$eq": [kind, "object"]}, "then": {"$bsonSize": x}},
                    {"case": {"$eq": [kind, "array"]}, "then": {"$size": x}},
                ],
                "default": text_length,
            }
        },
    )


def _concat(compiler: ExprCompiler, node: exp.Expression) -> Any:
    # MySQL CONCAT is NULL when any argument is NULL, as is $concat; numbers become text.
    return {"$concat": [as_string(a) for a in args(compiler, node)]}


def _concat_ws(compiler: ExprCompiler, node: exp.Expression) -> Any:
    values = args(compiler, node)
    separator, parts = values[0], [as_string(v) for v in values[1:]]
    present = {"$filter": {"input": parts, "cond": {"$gt": ["$$this", None]}}}
    joined = {
        "$reduce": {
            "input": present,
            "initialValue": None,
            "in": {
                "$cond": [
                    {"$eq": ["$$value", None]},
                    "$$this",
                    {"$concat": ["$$value", separator, "$$this"]},
                ]
            },
        }
    }
    return mql.null_guard([separator], {"$ifNull": [joined, ""]})


def _substring(compiler: ExprCompiler, node: exp.Expression) -> Any:
    s = compiler.value(node.this)
    start = compiler.value(node.args["start"]) if node.args.get("start") else 1
    length = compiler.value(node.args["length"]) if node.args.get("length") else None
    return _substring_of(s, start, length)


def _substring_of(s: Any, start: Any, length: Any) -> Any:
    """MySQL SUBSTRING: 1-based start, negative start counts from the end, start 0 is ''."""
    text = as_string(s)
    size = {"$strLenCP": text}
    count = length if length is not None else size
    if mql.is_constant(start):
        position = mql.constant_of(start)
        if position is None:
            return None
        if isinstance(position, bool) or not isinstance(position, int | float):
            raise SemanticError("SUBSTRING takes a number as its start", code="QL304")
        if position > 0:
            begin: Any = position - 1
        elif position < 0:
            begin = {"$max": [{"$add": [size, position]}, 0]}
        else:
            return mql.null_guard([s], "")
    else:
        begin = {
            "$cond": [
                {"$gt": [start, 0]},
                {"$subtract": [start, 1]},
                {"$max": [{"$add": [size, start]}, 0]},
            ]
        }
    guarded_count = {"$max": [count, 0]} if not mql.is_constant(count) else max(count, 0)
    return mql.null_guard([s, start, length], {"$substrCP": [text, begin, guarded_count]})


def _left(compiler: ExprCompiler, node: exp.Expression) -> Any:
    s = compiler.value(node.this)
    n = compiler.value(node.expression)
    return mql.null_guard([s, n], {"$substrCP": [as_string(s), 0, {"$max": [n, 0]}]})


def _right(compiler: ExprCompiler, node: exp.Expression) -> Any:
    s = compiler.value(node.this)
    n = compiler.value(node.expression)
    text = as_string(s)
    begin = {"$max": [{"$subtract": [{"$strLenCP": text}, n]}, 0]}
    return mql.null_guard([s, n], {"$substrCP": [text, begin, {"$max": [n, 0]}]})


def _trim(compiler: ExprCompiler, node: exp.Expression) -> Any:
    s = compiler.value(node.this)
    operator = {"LEADING": "$ltrim", "TRAILING": "$rtrim"}.get(
        str(node.args.get("position") or "").upper(), "$trim"
    )
    spec: dict[str, Any] = {"input": s}
    if node.args.get("expression") is not None:
        spec["chars"] = compiler.value(node.expression)
    return {operator: spec}


def _replace(compiler: ExprCompiler, node: exp.Expression) -> Any:
    # sqlglot keeps the third argument under "replacement", which _args does not read.
    s = compiler.value(node.this)
    find = compiler.value(node.expression)
    replacement = compiler.value(node.args["replacement"])
    spec = {"input": s, "find": find, "replacement": replacement}
    return mql.null_guard([s, find, replacement], {"$replaceAll": spec})


def _round(compiler: ExprCompiler, node: exp.Expression) -> Any:
    """Half away from zero, as MySQL rounds exact values ($round rounds half to even)."""
    x = compiler.value(node.this)
    places = compiler.value(node.args["decimals"]) if node.args.get("decimals") else 0
    if not mql.is_constant(places):
        raise UnsupportedError("ROUND needs a constant number of decimals", node=node, code="QL201")
    digits = mql.constant_of(places)
    if digits is None:
        return None
    if (
        isinstance(digits, bool)
        or not isinstance(digits, int | float)
        or (isinstance(digits, float) and not math.isfinite(digits))
    ):
        raise SemanticError("ROUND takes a number of decimals", node=node, code="QL304")
    if digits > 15:  # beyond a double's precision: nothing to round (and no huge scale)
        return {"$let": {"vars": {"x": x}, "in": mql.null_guard(["$$x"], "$$x")}}
    scale = 10 ** max(int(digits), -18)
    sign = {"$cond": [{"$lt": ["$$x", 0]}, -1, 1]}
    magnitude = {"$floor": {"$add": [{"$multiply": [{"$abs": "$$x"}, scale]}, 0.5]}}
    rounded = {"$divide": [{"$multiply": [sign, magnitude]}, scale]}
    return {"$let": {"vars": {"x": x}, "in": mql.null_guard(["$$x"], rounded)}}


def _truncate(compiler: ExprCompiler, node: exp.Expression) -> Any:
    x = compiler.value(node.this)
    places = compiler.value(node.args["decimals"]) if node.args.get("decimals") else 0
    return mql.null_guard([x], {"$trunc": [x, places]})


def _domain_checked(operator: str, minimum: float, inclusive: bool) -> Builder:
    """SQRT of a negative or LN of a non-positive is NULL in SQL; MongoDB raises."""

    def build(compiler: ExprCompiler, node: exp.Expression) -> Any:
        x = compiler.value(node.this)
        test = {"$gte" if inclusive else "$gt": [x, minimum]}
        return mql.cond(mql.and_(mql.not_null(x), test), {operator: x}, None)

    return build


def _log(compiler: ExprCompiler, node: exp.Expression) -> Any:
    """LOG(b, x): NULL unless x > 0, b > 0 and b != 1 (MongoDB raises for those)."""
    base = compiler.value(node.this)
    x = compiler.value(node.expression)
    checks = [mql.not_null(x), {"$gt": [x, 0]}]
    known = mql.constant_of(base) if mql.is_constant(base) else None
    if not (isinstance(known, int | float) and known > 0 and known != 1):
        checks += [mql.not_null(base), {"$gt": [base, 0]}, {"$ne": [base, 1]}]
    return mql.cond(mql.and_(*checks), {"$log": [x, base]}, None)


def _pow(compiler: ExprCompiler, node: exp.Expression) -> Any:
    a = compiler.value(node.this)
    b = compiler.value(node.expression)
    return mql.null_guard([a, b], {"$pow": [a, b]})


def _sign(compiler: ExprCompiler, node: exp.Expression) -> Any:
    x = compiler.value(node.this)
    return mql.null_guard([x], {"$cmp": [x, 0]})


def _coalesce(compiler: ExprCompiler, node: exp.Expression) -> Any:
    values = args(compiler, node)
    if len(values) == 1:
        return values[0]
    return {"$ifNull": values}


def _nullif(compiler: ExprCompiler, node: exp.Expression) -> Any:
    a = compiler.value(node.this)
    return mql.cond(compiler.compare("$eq", node.this, node.expression), None, a)


def _if(compiler: ExprCompiler, node: exp.Expression) -> Any:
    test = compiler.truth(node.this)
    then = compiler.value(node.args["true"])
    otherwise = compiler.value(node.args["false"]) if node.args.get("false") else None
    return mql.cond(test, then, otherwise)


def _case(compiler: ExprCompiler, node: exp.Expression) -> Any:
    subject = node.this
    branches = []
    for branch in node.args.get("ifs") or []:
        condition = branch.this
        if subject is not None:
            test = compiler.compare("$eq", subject, condition)
        else:
            test = compiler.truth(condition)
        branches.append({"case": test, "then": compiler.value(branch.args["true"])})
    default = compiler.value(node.args["default"]) if node.args.get("default") else None
    branches = [b for b in branches if b["case"] is not False]
    if not branches:
        return default
    if branches[0]["case"] is True:
        return branches[0]["then"]
    return {"$switch": {"branches": branches, "default": default}}


def _extreme(operator: str) -> Builder:
    """GREATEST/LEAST are NULL when any argument is NULL ($max/$min skip nulls)."""

    def build(compiler: ExprCompiler, node: exp.Expression) -> Any:
        values = args(compiler, node)
        return mql.null_guard(values, {operator: values})

    return build


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
        return _cast_integer(x)
    if kind == "decimal":
        precision, scale = _type_params(node, default=(10, 0))
        return _cast_decimal(x, precision, scale, node)
    converted = {"$convert": {"input": x, "to": kind, "onError": None, "onNull": None}}
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
        if not (
            isinstance(value, exp.Literal)
            and not value.is_string
            and value.this.isascii()
            and value.this.isdigit()
            and len(value.this) < 6
        ):
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


def _cast_integer(x: Any) -> Any:
    """CAST(x AS SIGNED): numbers round half away from zero, as MySQL rounds an exact value;
    text is read as a number and truncated, as MySQL reads a string's integer part."""
    if mql.is_constant(x):
        value = mql.constant_of(x)
        if value is None:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) < 2**62:
            return int(decimal.Decimal(repr(value)).quantize(1, decimal.ROUND_HALF_UP))
    rounded = {"$convert": {"input": half_away_from_zero("$$qc"), "to": "long", "onError": None}}
    number = {"$convert": {"input": "$$qc", "to": "decimal", "onError": None}}
    other = {"$convert": {"input": number, "to": "long", "onError": None}}
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
    shifted: Any = {"$convert": {"input": x, "to": "decimal", "onError": None, "onNull": None}}
    factor = 10**scale if scale <= 18 else Decimal128(f"1E{scale}")
    if scale:
        shifted = {"$multiply": [shifted, factor]}
    clamped = half_away_from_zero("$$qn")
    if precision <= 34:  # decimal128 holds 34 digits: wider limits cannot be reached
        limit = Decimal128("9" * precision)
        clamped = {"$min": [{"$max": [clamped, Decimal128("-" + "9" * precision)]}, limit]}
    result = {"$divide": [clamped, factor]} if scale else clamped
    return {"$let": {"vars": {"qn": shifted}, "in": mql.null_guard(["$$qn"], result)}}


def _objectid(compiler: ExprCompiler, node: exp.Expression) -> Any:
    (x,) = args(compiler, node)
    return {"$convert": {"input": x, "to": "objectId", "onError": None, "onNull": None}}


def _now(compiler: ExprCompiler, node: exp.Expression) -> Any:
    return "$$NOW"


TYPED.update(
    {
        exp.Add: arithmetic("$add"),
        exp.Sub: arithmetic("$subtract"),
        exp.Mul: arithmetic("$multiply"),
        exp.Div: _checked_division("$divide"),
        exp.Mod: _checked_division("$mod"),
        exp.IntDiv: _checked_division("$intdiv"),
        exp.Neg: _neg,
        exp.Lower: _unary("$toLower"),
        exp.Upper: _unary("$toUpper"),
        exp.Length: _length,
        exp.Concat: _concat,
        exp.ConcatWs: _concat_ws,
        exp.Substring: _substring,
        exp.Left: _left,
        exp.Right: _right,
        exp.Trim: _trim,
        exp.Replace: _replace,
        exp.Round: _round,
        exp.Trunc: _truncate,
        exp.Abs: _unary("$abs"),
        exp.Ceil: _unary("$ceil"),
        exp.Floor: _unary("$floor"),
        exp.Exp: _unary("$exp"),
        exp.Sqrt: _domain_checked("$sqrt", 0, inclusive=True),
        exp.Ln: _domain_checked("$ln", 0, inclusive=False),
        exp.Log: _log,
        exp.Pow: _pow,
        exp.Sign: _sign,
        exp.Coalesce: _coalesce,
        exp.Nullif: _nullif,
        exp.If: _if,
        exp.Case: _case,
        exp.Greatest: _extreme("$max"),
        exp.Least: _extreme("$min"),
        exp.Cast: _cast,
        exp.TryCast: _cast,
        exp.CurrentTimestamp: _now,
    }
)

ANONYMOUS.update(
    {
        "NOW": _now,
        "OBJECTID": _objectid,
        "MID": lambda c, n: _substring_of(*(args(c, n) + [None] * 3)[:3]),
    }
)

KNOWN_NAMES.update(
    {
        "ABS", "AVG", "CASE", "CAST", "CEIL", "CEILING", "CHAR_LENGTH", "COALESCE", "CONCAT",
        "CONCAT_WS", "COUNT", "CURRENT_TIMESTAMP", "EXP", "FLOOR", "GREATEST", "IF", "IFNULL",
        "LCASE", "LEAST", "LEFT", "LENGTH", "LN", "LOG", "LOG10", "LOWER", "MAX", "MID", "MIN",
        "MOD", "NOW", "NULLIF", "OBJECTID", "POW", "POWER", "REPLACE", "RIGHT", "ROUND", "SIGN",
        "SQRT", "SUBSTR", "SUBSTRING", "SUM", "TRIM", "LTRIM", "RTRIM", "TRUNCATE", "UCASE",
        "UPPER",
    }
)  # fmt: skip
