"""The core scalar functions and operators: arithmetic, comparison helpers, the basic string
and math functions, conditionals, CAST and OBJECTID, each as an aggregation expression with
SQL's NULL-in, NULL-out behaviour. Registered in queryleaf.plan.function_registry."""

from __future__ import annotations

import decimal
import re
from typing import TYPE_CHECKING, Any

from bson import Decimal128
from sqlglot import exp

from queryleaf.errors import UnsupportedError
from queryleaf.plan import mql
from queryleaf.plan.function_registry import (
    ANONYMOUS,
    KNOWN_NAMES,
    TYPED,
    Builder,
    args,
    as_string,
)
from queryleaf.plan.value_text import text_of

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
        if operator == "$divide":
            return exact_division(a, b)
        result: Any = {operator: [a, b]}
        if operator == "$intdiv":
            result = {"$trunc": [{"$divide": [a, b]}]}
        if mql.is_constant(b) and mql.constant_of(b) not in (0, None):
            return result
        return mql.cond({"$eq": [b, 0]}, None, result)

    return build


DIV_PRECISION_INCREMENT = 4


def exact_division(a: Any, b: Any) -> Any:
    """a / b as MySQL divides: NULL for a zero divisor; a double when either side is a
    double; otherwise a DECIMAL with the dividend's scale plus 4 places, rounded half away
    from zero (`1/3` is 0.3333, `1/1` is 1.0000)."""
    if mql.is_constant(a) and mql.is_constant(b):
        x, y = mql.constant_of(a), mql.constant_of(b)
        exact = (int, Decimal128)
        if x is None or y is None or y == 0:
            return None
        if isinstance(x, exact) and isinstance(y, exact) and not isinstance(x, bool):
            dx = x.to_decimal() if isinstance(x, Decimal128) else decimal.Decimal(x)
            dy = y.to_decimal() if isinstance(y, Decimal128) else decimal.Decimal(y)
            places = max(-dx.as_tuple().exponent, 0) + DIV_PRECISION_INCREMENT
            quantum = decimal.Decimal(1).scaleb(-places)
            with decimal.localcontext() as context:
                context.prec = 60
                return Decimal128((dx / dy).quantize(quantum, decimal.ROUND_HALF_UP))
    text = {"$toString": "$$qa"}
    point = {"$indexOfCP": [text, "."]}
    scale = {
        "$cond": [
            {"$eq": [{"$type": "$$qa"}, "decimal"]},
            {"$let": {"vars": {"qp": point}, "in": {"$cond": [
                {"$lt": ["$$qp", 0]}, 0, {"$subtract": [{"$subtract": [{"$strLenCP": text}, "$$qp"]}, 1]}
            ]}}},
            0,
        ]
    }  # fmt: skip
    places = {"$add": [scale, DIV_PRECISION_INCREMENT]}
    quotient = {"$divide": [{"$toDecimal": "$$qa"}, "$$qb"]}
    factor = {"$pow": [Decimal128("10"), "$$qn"]}
    sign = {"$cond": [{"$lt": ["$$qq", 0]}, -1, 1]}
    magnitude = {"$floor": {"$add": [{"$multiply": [{"$abs": "$$qq"}, factor]}, 0.5]}}
    rounded = {"$round": [{"$divide": [{"$multiply": [sign, magnitude]}, factor]}, "$$qn"]}
    decimal_result = {"$let": {"vars": {"qq": quotient, "qn": places}, "in": rounded}}
    double = {
        "$or": [{"$eq": [{"$type": "$$qa"}, "double"]}, {"$eq": [{"$type": "$$qb"}, "double"]}]
    }
    body = {"$cond": [double, {"$divide": ["$$qa", "$$qb"]}, decimal_result]}
    guarded = mql.cond({"$eq": ["$$qb", 0]}, None, body)
    return {"$let": {"vars": {"qa": a, "qb": b}, "in": guarded}}


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
    return {"$concat": [text_of(a) for a in args(compiler, node)]}


def _concat_ws(compiler: ExprCompiler, node: exp.Expression) -> Any:
    values = args(compiler, node)
    separator, parts = values[0], [text_of(v) for v in values[1:]]
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
    if isinstance(node.args.get("length"), exp.Null):
        return None
    s = compiler.value(node.this)
    start = compiler.value(node.args["start"]) if node.args.get("start") else 1
    length = compiler.value(node.args["length"]) if node.args.get("length") else None
    return _substring_of(s, start, length)


def _substring_of(s: Any, start: Any, length: Any) -> Any:
    """MySQL SUBSTRING: 1-based start, negative start counts from the end (before the
    beginning it is ''), start 0 is ''; a negative length is ''."""
    text = as_string(s)
    size = {"$strLenCP": text}
    count = length if length is not None else size
    guarded = [s, start] if length is None else [s, start, length]
    if mql.is_constant(start):
        position = mql.constant_of(start)
        if position is None:
            return None
        if position > 0:
            begin: Any = position - 1
        elif position < 0:
            begin = {"$add": [size, position]}
        else:
            return mql.null_guard(guarded, "")
    else:
        begin = {
            "$cond": [
                {"$gt": [start, 0]},
                {"$subtract": [start, 1]},
                {"$cond": [{"$lt": [start, 0]}, {"$add": [size, start]}, -1]},
            ]
        }
    guarded_count = {"$max": [count, 0]} if not mql.is_constant(count) else max(count, 0)
    cut = {"$substrCP": [text, "$$qb", guarded_count]}
    body = {"$let": {"vars": {"qb": begin}, "in": mql.cond({"$lt": ["$$qb", 0]}, "", cut)}}
    if isinstance(begin, int):
        body = {"$substrCP": [text, begin, guarded_count]}
    return mql.null_guard(guarded, body)


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
    """TRIM([LEADING|TRAILING|BOTH] [remstr FROM] s): MySQL removes whole repetitions of
    remstr (default ' '), not any of its characters; a remstr longer than one character
    is matched as a string by an anchored regex."""
    s = compiler.value(node.this)
    position = str(node.args.get("position") or "").upper()
    operator = {"LEADING": "$ltrim", "TRAILING": "$rtrim"}.get(position, "$trim")
    chars: Any = " "
    if node.args.get("expression") is not None:
        chars = compiler.value(node.expression)
    if mql.is_constant(chars) and len(str(mql.constant_of(chars) or "")) <= 1:
        if mql.constant_of(chars) is None:
            return None
        if mql.constant_of(chars) == "":
            return s
        return {operator: {"input": s, "chars": chars}}
    if not mql.is_constant(chars):
        raise UnsupportedError(
            "TRIM needs a constant string to remove", node=node.expression, code="QL201"
        )
    return _trim_string(s, str(mql.constant_of(chars)), position or "BOTH")


def _trim_string(s: Any, remove: str, position: str) -> Any:
    repeated = "(?:" + re.escape(remove) + ")*"
    text = "$$qs"
    if position in ("LEADING", "BOTH"):
        found = {"$regexFind": {"input": text, "regex": "^" + repeated}}
        skipped = {"$strLenCP": {"$getField": {"field": "match", "input": found}}}
        text = {"$substrCP": [text, skipped, {"$strLenCP": text}]}
    if position in ("TRAILING", "BOTH"):
        inner = "$$qt"
        found = {"$regexFind": {"input": inner, "regex": repeated + "$"}}
        start = {"$getField": {"field": "idx", "input": found}}
        cut = {"$substrCP": [inner, 0, start]}
        text = {"$let": {"vars": {"qt": text}, "in": cut}}
    return {"$let": {"vars": {"qs": as_string(s)}, "in": mql.null_guard(["$$qs"], text)}}


def _replace(compiler: ExprCompiler, node: exp.Expression) -> Any:
    # sqlglot keeps the third argument under "replacement", which _args does not read.
    s = compiler.value(node.this)
    find = compiler.value(node.expression)
    replacement = compiler.value(node.args["replacement"])
    if mql.is_constant(find) and mql.constant_of(find) == "":
        return mql.null_guard([find, replacement], s)  # MySQL: '' is found nowhere
    spec = {"input": s, "find": find, "replacement": replacement}
    replaced: Any = {"$replaceAll": spec}
    if not mql.is_constant(find):
        replaced = mql.cond({"$eq": [find, ""]}, s, replaced)
    return mql.null_guard([s, find, replacement], replaced)


def _round(compiler: ExprCompiler, node: exp.Expression) -> Any:
    """Exact values (integers, decimals, literals like 2.5) round half away from zero, as
    MySQL rounds them; doubles (`2.5e0`, a double field) round half to even, as MySQL rounds
    approximate values ($round does that)."""
    x = compiler.value(node.this)
    places = compiler.value(node.args["decimals"]) if node.args.get("decimals") else 0
    if not mql.is_constant(places):
        raise UnsupportedError("ROUND needs a constant number of decimals", node=node, code="QL201")
    digits = int(mql.constant_of(places))
    literal, negative = node.this, False
    if isinstance(literal, exp.Neg):
        literal, negative = literal.this, True
    if isinstance(literal, exp.Literal) and not literal.is_string:
        exact = "e" not in literal.this.lower()
        rounding = decimal.ROUND_HALF_UP if exact else decimal.ROUND_HALF_EVEN
        value = decimal.Decimal(literal.this) * (-1 if negative else 1)
        rounded = value.quantize(decimal.Decimal(1).scaleb(-digits), rounding)
        whole = exact and digits <= 0
        return int(rounded) if whole else float(rounded)
    scale = 10**digits
    sign = {"$cond": [{"$lt": ["$$x", 0]}, -1, 1]}
    magnitude = {"$floor": {"$add": [{"$multiply": [{"$abs": "$$x"}, scale]}, 0.5]}}
    exact_rounding = {"$divide": [{"$multiply": [sign, magnitude]}, scale]}
    by_type = {
        "$cond": [
            {"$eq": [{"$type": "$$x"}, "double"]},
            {"$round": ["$$x", digits]},
            exact_rounding,
        ]
    }
    return {"$let": {"vars": {"x": x}, "in": mql.null_guard(["$$x"], by_type)}}


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
        exp.Length: _length,
        exp.Concat: _concat,
        exp.DPipe: _concat,  # PostgreSQL a || b (NULL when either is NULL, like $concat)
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
