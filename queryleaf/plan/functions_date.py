"""Date and time functions (MySQL spelling first, PostgreSQL where it exists) to MQL.

Dates are BSON dates, in UTC, with millisecond precision. A date argument that is a constant
string is parsed when the statement is compiled; any other argument that is not already a date
expression goes through `$convert` to date (text in ISO form converts, anything else is NULL),
so a bad value gives NULL as in MySQL instead of failing the whole command.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlglot import exp
from sqlglot.dialects.mysql import MySQL

from queryleaf.errors import SemanticError, UnsupportedError
from queryleaf.plan import functions, mql
from queryleaf.plan.literals import NotConstant, constant_value, parse_datetime

if TYPE_CHECKING:
    from queryleaf.plan.expressions import ExprCompiler

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MONTH_NAMES = [calendar.month_name[n] for n in range(1, 13)]
DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
ORDINALS = [
    f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"
    for n in range(1, 32)
]

MS = {"MILLISECOND": 1, "SECOND": 1000, "MINUTE": 60_000, "HOUR": 3_600_000,
      "DAY": 86_400_000, "WEEK": 604_800_000}  # fmt: skip
# MySQL interval units and the $dateAdd unit each one becomes.
ADD_UNITS = {"MILLISECOND": "millisecond", "SECOND": "second", "MINUTE": "minute", "HOUR": "hour", "DAY": "day",
             "WEEK": "week", "MONTH": "month", "QUARTER": "quarter", "YEAR": "year"}  # fmt: skip
# Compound units: the fields of the interval text, left to right.
COMPOUND_UNITS = {
    "SECOND_MICROSECOND": ("SECOND", "MICROSECOND"),
    "MINUTE_MICROSECOND": ("MINUTE", "SECOND", "MICROSECOND"),
    "MINUTE_SECOND": ("MINUTE", "SECOND"),
    "HOUR_MICROSECOND": ("HOUR", "MINUTE", "SECOND", "MICROSECOND"),
    "HOUR_SECOND": ("HOUR", "MINUTE", "SECOND"),
    "HOUR_MINUTE": ("HOUR", "MINUTE"),
    "DAY_MICROSECOND": ("DAY", "HOUR", "MINUTE", "SECOND", "MICROSECOND"),
    "DAY_SECOND": ("DAY", "HOUR", "MINUTE", "SECOND"),
    "DAY_MINUTE": ("DAY", "HOUR", "MINUTE"),
    "DAY_HOUR": ("DAY", "HOUR"),
    "YEAR_MONTH": ("YEAR", "MONTH"),
}
UNIT_ALIASES = {"MICROSECONDS": "MICROSECOND", "MILLISECONDS": "MILLISECOND",
                "SECONDS": "SECOND", "MINUTES": "MINUTE", "HOURS": "HOUR", "DAYS": "DAY",
                "WEEKS": "WEEK", "MONTHS": "MONTH", "QUARTERS": "QUARTER",
                "YEARS": "YEAR"}  # fmt: skip


# -- arguments -------------------------------------------------------------------------------


def unit_of(node: exp.Expression | None, default: str = "DAY") -> str:
    if node is None:
        return default
    name = node.name.upper().strip()
    name = name.removeprefix("SQL_TSI_")
    return UNIT_ALIASES.get(name, name)


def _unwrap(node: exp.Expression) -> exp.Expression:
    """sqlglot wraps the argument of DATE_FORMAT, YEAR() & co. in a string-or-date
    conversion node; the conversion is ours to do."""
    while isinstance(node, exp.TsOrDsToTimestamp | exp.TsOrDsToDate) and not node.args.get(
        "format"
    ):
        node = node.this
    return node


def _constant(compiler: ExprCompiler, node: exp.Expression) -> Any:
    try:
        return constant_value(node, compiler.bindings)
    except NotConstant:
        return NotConstant


def _produces_date(node: exp.Expression) -> bool:
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Cast):
        return node.to.is_type("date", "datetime", "timestamp", "timestamptz")
    if isinstance(node, exp.Anonymous):
        return node.name.upper() in {"NOW", "SYSDATE", "UTC_TIMESTAMP", "ADDDATE", "SUBDATE"}
    if isinstance(node, exp.Add | exp.Sub):
        return isinstance(node.this, exp.Interval) or isinstance(node.expression, exp.Interval)
    if isinstance(node, exp.UnixToTime):
        return node.args.get("format") is None
    return isinstance(node, DATE_RESULTS)


def date_value(compiler: ExprCompiler, node: exp.Expression) -> Any:
    """An argument as an MQL date expression (see the module docstring)."""
    constant = _constant(compiler, node)
    if constant is not NotConstant:
        if constant is None or isinstance(constant, dt.datetime):
            return constant
        if isinstance(constant, str):
            return parse_datetime(constant, node)
        raise SemanticError(
            f"{node.sql('mysql')} is not a date",
            node=node,
            hint="write DATE 'YYYY-MM-DD' or TIMESTAMP 'YYYY-MM-DD HH:MM:SS'",
            code="QL306",
        )
    value = compiler.value(node)
    if _produces_date(node):
        return value
    return {"$convert": {"input": value, "to": "date", "onError": None}}


def _let(name: str, value: Any, body: Any) -> Any:
    return {"$let": {"vars": {name: value}, "in": body}}


def _to_number(value: Any, node: exp.Expression) -> int | float | Decimal:
    """An interval amount written as a number or as text (`INTERVAL '3' DAY`)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        match = re.match(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", value)
        if match:
            try:
                return Decimal(match.group(0).strip())
            except InvalidOperation:
                pass
    raise SemanticError(f"interval amount {value!r} is not a number", node=node, code="QL306")


def _half_away(value: int | float | Decimal, node: exp.Expression | None = None) -> int:
    number = Decimal(str(value))
    if not number.is_finite() or abs(number) >= 2**62:
        raise SemanticError(f"interval amount {value} is out of range", node=node, code="QL306")
    return int(number.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# -- DATE_ADD and friends ------------------------------------------------------------------


def _interval_steps(
    compiler: ExprCompiler, amount_node: exp.Expression, unit: str, node: exp.Expression
) -> list[tuple[str, Any]]:
    """($dateAdd unit, amount) steps that add the interval `amount unit`."""
    amount = _constant(compiler, amount_node)
    if unit in COMPOUND_UNITS:
        if amount is NotConstant:
            raise UnsupportedError(
                f"INTERVAL ... {unit} needs a constant amount", node=amount_node, code="QL201"
            )
        if amount is None:
            return [("day", None)]
        return [_compound(str(amount), unit, node)]
    if unit != "MICROSECOND" and unit not in ADD_UNITS:
        raise UnsupportedError(f"interval unit {unit} is not supported", node=node, code="QL201")
    if amount is NotConstant:
        value = compiler.value(amount_node)
        if unit == "MICROSECOND":
            return [("millisecond", {"$floor": {"$divide": [value, 1000]}})]
        if unit == "SECOND":
            return [("millisecond", round_half_away({"$multiply": [value, 1000]}))]
        return [(ADD_UNITS[unit], round_half_away(value))]
    if amount is None:
        return [("day", None)]
    number = _to_number(amount, amount_node)
    if unit == "MICROSECOND":
        return [("millisecond", _half_away(math.floor(Decimal(str(number)) / 1000), amount_node))]
    if unit == "SECOND" and Decimal(str(number)) != int(Decimal(str(number))):
        return [("millisecond", _half_away(Decimal(str(number)) * 1000, amount_node))]
    return [(ADD_UNITS[unit], _half_away(number, amount_node))]


def _compound(text: str, unit: str, node: exp.Expression) -> tuple[str, int]:
    """MySQL's compound interval text ('1 2:30:00', '1-6'): numbers separated by any
    punctuation, missing leading fields taken as 0; a leading '-' negates the whole."""
    fields = COMPOUND_UNITS[unit]
    negative = text.strip().startswith("-")
    numbers = re.findall(r"\d+", text)
    if not numbers or len(numbers) > len(fields):
        raise SemanticError(f"{text!r} is not a valid {unit} interval", node=node, code="QL306")
    values = dict.fromkeys(fields, 0)
    for field, digits in zip(fields[len(fields) - len(numbers) :], numbers, strict=True):
        if field == "MICROSECOND":
            digits = (digits + "000000")[:6]  # '1.5' SECOND_MICROSECOND is 1.5 seconds
        values[field] = int(digits)
    sign = -1 if negative else 1
    if unit == "YEAR_MONTH":
        return ("month", sign * (values["YEAR"] * 12 + values["MONTH"]))
    total = sum(values[f] * MS[f] for f in fields if f in MS)
    total += values.get("MICROSECOND", 0) // 1000
    return ("millisecond", sign * total)


def round_half_away(value: Any) -> Any:
    """A number rounded to a whole number, half away from zero (MySQL); `$round` rounds
    half to even."""
    return _let(
        "qn",
        value,
        {
            "$cond": [
                {"$lt": ["$$qn", 0]},
                {"$ceil": {"$subtract": ["$$qn", 0.5]}},
                {"$floor": {"$add": ["$$qn", 0.5]}},
            ]
        },
    )


def add_interval(
    compiler: ExprCompiler,
    date_node: exp.Expression,
    amount_node: exp.Expression,
    unit: str,
    sign: int,
    node: exp.Expression,
) -> Any:
    date = date_value(compiler, date_node)
    steps = _interval_steps(compiler, amount_node, unit, node)
    result = date
    for mongo_unit, amount in steps:
        if amount is None or date is None:
            return None
        operator = "$dateAdd" if sign > 0 else "$dateSubtract"
        if isinstance(amount, int) and amount < 0:
            operator = "$dateSubtract" if sign > 0 else "$dateAdd"
            amount = -amount
        result = {operator: {"startDate": result, "unit": mongo_unit, "amount": amount}}
    return result


def _interval_parts(interval: exp.Interval) -> tuple[exp.Expression, str]:
    amount = interval.this
    unit = interval.args.get("unit")
    if unit is None:
        # PostgreSQL's INTERVAL '3 days'.
        text = amount.name if isinstance(amount, exp.Literal) else ""
        match = re.fullmatch(r"\s*([+-]?\d+(?:\.\d+)?)\s+([A-Za-z_]+)\s*", text)
        if not match:
            raise UnsupportedError(
                f"interval {interval.sql('mysql')} needs a unit",
                node=interval,
                hint="write INTERVAL 3 DAY",
                code="QL201",
            )
        return exp.Literal.string(match.group(1)), unit_of(exp.var(match.group(2)))
    return amount, unit_of(unit)


def _date_add(sign: int) -> functions.Builder:
    def build(compiler: ExprCompiler, node: exp.Expression) -> Any:
        amount = node.expression
        if isinstance(amount, exp.Interval):
            amount, unit = _interval_parts(amount)
        else:
            unit = unit_of(node.args.get("unit"))
        return add_interval(compiler, node.this, amount, unit, sign, node)

    return build


def _adddate(sign: int) -> functions.Builder:
    """ADDDATE(d, INTERVAL n unit) or ADDDATE(d, days); SUBDATE likewise."""

    def build(compiler: ExprCompiler, node: exp.Expression) -> Any:
        if len(node.expressions) != 2:
            raise SemanticError(f"{node.name.upper()} takes two arguments", node=node, code="QL304")
        date_node, amount = node.expressions
        unit = "DAY"
        if isinstance(amount, exp.Interval):
            amount, unit = _interval_parts(amount)
        return add_interval(compiler, date_node, amount, unit, sign, node)

    return build


_PLAIN_ADD = functions.TYPED[exp.Add]
_PLAIN_SUB = functions.TYPED[exp.Sub]


def _add(compiler: ExprCompiler, node: exp.Expression) -> Any:
    if isinstance(node.expression, exp.Interval):
        amount, unit = _interval_parts(node.expression)
        return add_interval(compiler, node.this, amount, unit, 1, node)
    if isinstance(node.this, exp.Interval):
        amount, unit = _interval_parts(node.this)
        return add_interval(compiler, node.expression, amount, unit, 1, node)
    return _PLAIN_ADD(compiler, node)


def _sub(compiler: ExprCompiler, node: exp.Expression) -> Any:
    if isinstance(node.expression, exp.Interval):
        amount, unit = _interval_parts(node.expression)
        return add_interval(compiler, node.this, amount, unit, -1, node)
    return _PLAIN_SUB(compiler, node)


# -- differences -----------------------------------------------------------------------------


def timestamp_diff(unit: str, start: Any, end: Any, node: exp.Expression) -> Any:
    """MySQL TIMESTAMPDIFF: whole units elapsed from `start` to `end`, truncated toward zero
    ($dateDiff counts unit boundaries crossed instead)."""
    if start is None or end is None:
        return None
    if unit == "MICROSECOND":
        return {"$multiply": [{"$subtract": [end, start]}, 1000]}
    if unit == "MILLISECOND":  # not in MySQL; PostgreSQL-style spelling
        return {"$subtract": [end, start]}
    if unit in MS:
        elapsed = {"$subtract": [end, start]}
        return {"$toLong": {"$trunc": [{"$divide": [elapsed, MS[unit]]}]}}
    months_per_unit = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}.get(unit)
    if months_per_unit is None:
        raise UnsupportedError(
            f"TIMESTAMPDIFF unit {unit} is not supported",
            node=node,
            hint="use MICROSECOND, SECOND, MINUTE, HOUR, DAY, WEEK, MONTH, QUARTER or YEAR",
            code="QL201",
        )

    # Calendar months from the earlier to the later instant, less one when the later one's
    # day and time of month come before the earlier one's; then the sign of the difference.
    def offset_in_month(date: str) -> Any:
        return {"$subtract": [date, {"$dateTrunc": {"date": date, "unit": "month"}}]}

    boundaries = {"$dateDiff": {"startDate": "$$qlo", "endDate": "$$qhi", "unit": "month"}}
    short = {"$cond": [{"$lt": [offset_in_month("$$qhi"), offset_in_month("$$qlo")]}, 1, 0]}
    months = _let(
        "qlo",
        {"$min": ["$$qa", "$$qb"]},
        _let("qhi", {"$max": ["$$qa", "$$qb"]}, {"$subtract": [boundaries, short]}),
    )
    whole = (
        months
        if months_per_unit == 1
        else {"$toLong": {"$trunc": [{"$divide": [months, months_per_unit]}]}}
    )
    signed = {"$multiply": [{"$cond": [{"$lt": ["$$qb", "$$qa"]}, -1, 1]}, whole]}
    return {
        "$let": {
            "vars": {"qa": start, "qb": end},
            "in": mql.null_guard(["$$qa", "$$qb"], signed),
        }
    }


def _timestamp_diff(compiler: ExprCompiler, node: exp.Expression) -> Any:
    unit = unit_of(node.args.get("unit"))
    # sqlglot: this = the later argument, expression = the earlier one.
    start = date_value(compiler, node.expression)
    end = date_value(compiler, node.this)
    return timestamp_diff(unit, start, end, node)


def _datediff(compiler: ExprCompiler, node: exp.Expression) -> Any:
    """DATEDIFF(a, b): days from b to a, ignoring the time of day."""
    a = date_value(compiler, node.this)
    b = date_value(compiler, node.expression)
    if a is None or b is None:
        return None
    return {"$dateDiff": {"startDate": b, "endDate": a, "unit": "day"}}


# -- parts -------------------------------------------------------------------------------------


def _pad2(number: Any) -> Any:
    text = {"$toString": number}
    return {"$cond": [{"$lt": [number, 10]}, {"$concat": ["0", text]}, text]}


def _hour12(d: str) -> Any:
    return {"$add": [{"$mod": [{"$add": [{"$hour": d}, 11]}, 12]}, 1]}


def _name(names: list[str], index: Any) -> Any:
    return {"$arrayElemAt": [mql.literal(names), {"$subtract": [index, 1]}]}


def _week_mode_1(d: str) -> Any:
    """WEEK(d, 1): weeks start on Monday, week 1 is the first with 4 or more days of the year,
    days before it are week 0 (ISO weeks without wrapping into the next or previous year)."""
    iso_year = {"$isoWeekYear": d}
    year = {"$year": d}
    return {
        "$cond": [
            {"$lt": [iso_year, year]},
            0,
            {"$cond": [{"$gt": [iso_year, year]}, 53, {"$isoWeek": d}]},
        ]
    }


def _quarter(d: Any) -> Any:
    return {"$toInt": {"$ceil": {"$divide": [{"$month": d}, 3]}}}


# MySQL DATE_FORMAT codes that $dateToString writes the same way.
NATIVE_CODES = {"Y": "%Y", "m": "%m", "d": "%d", "H": "%H", "i": "%M", "s": "%S", "S": "%S",
                "j": "%j", "T": "%H:%M:%S", "f": "%L000", "U": "%U", "v": "%V", "x": "%G",
                "%": "%%"}  # fmt: skip


def _composed_code(code: str, d: str) -> Any:
    """MySQL DATE_FORMAT codes $dateToString lacks (in MongoDB 6.0), built from date parts."""
    if code == "y":
        return {"$substrCP": [{"$dateToString": {"date": d, "format": "%Y"}}, 2, 2]}
    if code == "c":
        return {"$toString": {"$month": d}}
    if code == "e":
        return {"$toString": {"$dayOfMonth": d}}
    if code == "k":
        return {"$toString": {"$hour": d}}
    if code in ("h", "I"):
        return _pad2(_hour12(d))
    if code == "l":
        return {"$toString": _hour12(d)}
    if code == "p":
        return {"$cond": [{"$lt": [{"$hour": d}, 12]}, "AM", "PM"]}
    if code == "r":
        return {
            "$concat": [
                _pad2(_hour12(d)),
                {"$dateToString": {"date": d, "format": ":%M:%S "}},
                _composed_code("p", d),
            ]
        }
    if code == "W":
        return _name(DAY_NAMES, {"$dayOfWeek": d})
    if code == "a":
        return _name([n[:3] for n in DAY_NAMES], {"$dayOfWeek": d})
    if code == "M":
        return _name(MONTH_NAMES, {"$month": d})
    if code == "b":
        return _name([n[:3] for n in MONTH_NAMES], {"$month": d})
    if code == "w":
        return {"$toString": {"$subtract": [{"$dayOfWeek": d}, 1]}}
    if code == "D":
        return _name(ORDINALS, {"$dayOfMonth": d})
    if code == "u":
        return _pad2(_week_mode_1(d))
    return None


def format_date(date: Any, pattern: str, node: exp.Expression) -> Any:
    """MySQL DATE_FORMAT: runs of codes $dateToString knows become one $dateToString, the
    others are composed from date parts, all joined with $concat."""
    if date is None:
        return None
    d = "$$qd"
    parts: list[Any] = []
    native = ""  # pending $dateToString format
    has_code = False

    def flush() -> None:
        nonlocal native, has_code
        if native:
            if has_code:
                parts.append({"$dateToString": {"date": d, "format": native}})
            else:
                parts.append(mql.literal(native.replace("%%", "%")))
        native, has_code = "", False

    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char != "%" or index + 1 >= len(pattern):
            native += "%%" if char == "%" else char
            index += 1
            continue
        code = pattern[index + 1]
        index += 2
        if code in NATIVE_CODES:
            native += NATIVE_CODES[code]
            has_code = has_code or code != "%"
            continue
        composed = _composed_code(code, d)
        if composed is None:
            if code in "VX":
                raise UnsupportedError(
                    f"DATE_FORMAT code %{code} is not supported",
                    node=node,
                    hint="use %U (Sunday weeks), %u (Monday weeks) or %v with %x (ISO weeks)",
                    code="QL201",
                )
            native += "%%" if code == "%" else code  # MySQL prints an unknown code's letter
            continue
        flush()
        parts.append(composed)
    flush()
    if not parts:
        return mql.null_guard([date], "")
    body = parts[0] if len(parts) == 1 else {"$concat": parts}
    if len(parts) == 1 and isinstance(body, dict) and "$dateToString" in body:
        return {"$dateToString": {"date": date, "format": body["$dateToString"]["format"]}}
    return _let("qd", date, mql.null_guard([d], body))


# sqlglot's rewriting of MySQL format codes (MySQL.TIME_MAPPING), undone code by code; %T and
# %r come back spelled out (%H:%i:%s, %h:%i:%s %p), which means the same.
_FROM_SQLGLOT = {value: key for key, value in MySQL.TIME_MAPPING.items() if len(value) <= 3}


def _from_sqlglot_format(text: str) -> str:
    out = []
    index = 0
    while index < len(text):
        if text[index] != "%" or index + 1 >= len(text):
            out.append(text[index])
            index += 1
            continue
        code = text[index : index + 3] if text[index + 1] == "-" else text[index : index + 2]
        out.append(_FROM_SQLGLOT.get(code, code))
        index += len(code)
    return "".join(out)


def mysql_format(compiler: ExprCompiler, node: exp.Expression | None, owner: exp.Expression) -> str:
    """The MySQL format string of DATE_FORMAT & co. sqlglot rewrites a literal format into
    its own strftime-like notation; map it back (the mapping is one-to-one in meaning).
    A bound parameter arrives as written."""
    if node is None:
        raise SemanticError("a date format is required", node=owner, code="QL304")
    if isinstance(node, exp.Literal) and node.is_string:
        return _from_sqlglot_format(node.this)
    value = _constant(compiler, node)
    if value is NotConstant or not isinstance(value, str):
        raise UnsupportedError(
            "DATE_FORMAT needs a constant format string",
            node=node,
            hint="write the format as a string literal or bind it as a parameter",
            code="QL201",
        )
    return value


def _date_format(compiler: ExprCompiler, node: exp.Expression) -> Any:
    date = date_value(compiler, _unwrap(node.this))
    return format_date(date, mysql_format(compiler, node.args.get("format"), node), node)


def _part(operator: str, unwrap: bool = True) -> functions.Builder:
    def build(compiler: ExprCompiler, node: exp.Expression) -> Any:
        date = date_value(compiler, _unwrap(node.this) if unwrap else node.this)
        return None if date is None else {operator: date}

    return build


def _quarter_function(compiler: ExprCompiler, node: exp.Expression) -> Any:
    date = date_value(compiler, _unwrap(node.this))
    return None if date is None else _let("qd", date, _quarter("$$qd"))


def _week(compiler: ExprCompiler, node: exp.Expression) -> Any:
    date = date_value(compiler, _unwrap(node.this))
    mode_node = node.args.get("mode")
    mode = 0 if mode_node is None else _constant(compiler, mode_node)
    if mode not in (0, 1, 3):
        raise UnsupportedError(
            f"WEEK mode {mode_node.sql('mysql') if mode_node else mode} is not supported",
            node=node,
            hint="use mode 0 (Sunday weeks, 0-53), 1 (Monday weeks, 0-53) or 3 (ISO weeks)",
            code="QL201",
        )
    if date is None:
        return None
    if mode == 0:
        return {"$week": date}
    if mode == 3:
        return {"$isoWeek": date}
    return _let("qd", date, mql.null_guard(["$$qd"], _week_mode_1("$$qd")))


def _weekday(compiler: ExprCompiler, node: exp.Expression) -> Any:
    """WEEKDAY(d): 0 = Monday ... 6 = Sunday."""
    (argument,) = _exactly(node, 1)
    date = date_value(compiler, argument)
    return None if date is None else {"$subtract": [{"$isoDayOfWeek": date}, 1]}


def _microsecond(compiler: ExprCompiler, node: exp.Expression) -> Any:
    (argument,) = _exactly(node, 1)
    date = date_value(compiler, argument)
    return None if date is None else {"$multiply": [{"$millisecond": date}, 1000]}


def _dayname(compiler: ExprCompiler, node: exp.Expression) -> Any:
    date = date_value(compiler, _unwrap(node.this))
    return None if date is None else _name(DAY_NAMES, {"$dayOfWeek": date})


def _exactly(node: exp.Expression, count: int) -> list[exp.Expression]:
    if len(node.expressions) != count:
        raise SemanticError(
            f"{node.name.upper()} takes {count} argument{'s' if count != 1 else ''}",
            node=node,
            code="QL304",
        )
    return list(node.expressions)


# EXTRACT units: (part, digits) fields combined into one number, as MySQL's compound units.
_FIELDS: dict[str, Any] = {
    "YEAR": lambda d: {"$year": d},
    "MONTH": lambda d: {"$month": d},
    "DAY": lambda d: {"$dayOfMonth": d},
    "HOUR": lambda d: {"$hour": d},
    "MINUTE": lambda d: {"$minute": d},
    "SECOND": lambda d: {"$second": d},
    "MICROSECOND": lambda d: {"$multiply": [{"$millisecond": d}, 1000]},
}
_FIELD_DIGITS = {"MONTH": 2, "DAY": 2, "HOUR": 2, "MINUTE": 2, "SECOND": 2, "MICROSECOND": 6}
_EXTRACT_OTHER: dict[str, Any] = {
    "WEEK": lambda d: {"$week": d},
    "QUARTER": _quarter,
    # PostgreSQL
    "DOW": lambda d: {"$subtract": [{"$dayOfWeek": d}, 1]},
    "ISODOW": lambda d: {"$isoDayOfWeek": d},
    "DOY": lambda d: {"$dayOfYear": d},
    "ISOYEAR": lambda d: {"$isoWeekYear": d},
    "EPOCH": lambda d: {"$divide": [{"$toLong": d}, 1000]},
}


def _extract(compiler: ExprCompiler, node: exp.Expression) -> Any:
    unit = unit_of(node.this)
    date = date_value(compiler, node.expression)
    d = "$$qd"
    if unit in _FIELDS:
        body = _FIELDS[unit](d)
    elif unit in _EXTRACT_OTHER:
        body = _EXTRACT_OTHER[unit](d)
    elif unit in COMPOUND_UNITS:
        # EXTRACT(DAY_HOUR FROM d) is day * 100 + hour, and so on.
        terms = []
        scale = 1
        for field in reversed(COMPOUND_UNITS[unit]):
            part = _FIELDS[field](d)
            terms.append(part if scale == 1 else {"$multiply": [part, scale]})
            scale *= 10 ** _FIELD_DIGITS.get(field, 4)
        body = {"$add": terms[::-1]}
    else:
        raise UnsupportedError(
            f"EXTRACT({unit} FROM ...) is not supported", node=node, code="QL201"
        )
    return with_date(date, body)


def with_date(date: Any, body: Any) -> Any:
    """`body`, written over the date "$$qd", applied to `date`: inlined when the body uses it
    once, else bound with $let."""
    if date is None:
        return None
    if repr(body).count("'$$qd'") == 1:
        return _substitute(body, "$$qd", date)
    return _let("qd", date, body)


def _substitute(body: Any, name: str, value: Any) -> Any:
    if body == name:
        return value
    if isinstance(body, dict):
        return {k: _substitute(v, name, value) for k, v in body.items()}
    if isinstance(body, list):
        return [_substitute(v, name, value) for v in body]
    return body


# PostgreSQL DATE_TRUNC units to $dateTrunc (unit, binSize).
_TRUNC_UNITS = {"MILLISECOND": ("millisecond", 1), "SECOND": ("second", 1),
                "MINUTE": ("minute", 1), "HOUR": ("hour", 1), "DAY": ("day", 1),
                "WEEK": ("week", 1), "MONTH": ("month", 1), "QUARTER": ("quarter", 1),
                "YEAR": ("year", 1), "DECADE": ("year", 10)}  # fmt: skip


def _date_trunc(compiler: ExprCompiler, node: exp.Expression) -> Any:
    unit_node = node.args.get("unit")
    unit = unit_of(unit_node) if unit_node is not None else ""
    unit = {"DECADES": "DECADE"}.get(unit, unit)
    date = date_value(compiler, node.this)
    if unit == "MICROSECOND":
        return date  # dates already have millisecond precision
    if unit not in _TRUNC_UNITS:
        raise UnsupportedError(
            f"DATE_TRUNC unit {unit_node.sql('mysql') if unit_node else ''} is not supported",
            node=node,
            hint="use microseconds, milliseconds, second, minute, hour, day, week, month, "
            "quarter, year or decade",
            code="QL201",
        )
    if date is None:
        return None
    mongo_unit, bin_size = _TRUNC_UNITS[unit]
    spec: dict[str, Any] = {"date": date, "unit": mongo_unit}
    if bin_size != 1:
        spec["binSize"] = bin_size
    if mongo_unit == "week":
        spec["startOfWeek"] = "monday"  # PostgreSQL weeks are ISO weeks
    return {"$dateTrunc": spec}


def _date(compiler: ExprCompiler, node: exp.Expression) -> Any:
    """DATE(d): the date at midnight."""
    date = date_value(compiler, node.this)
    return None if date is None else {"$dateTrunc": {"date": date, "unit": "day"}}


def _timestamp(compiler: ExprCompiler, node: exp.Expression) -> Any:
    if node.args.get("expression") is not None:
        raise UnsupportedError(
            "TIMESTAMP(date, time) is not supported",
            node=node,
            hint="add an INTERVAL",
            code="QL201",
        )
    return date_value(compiler, node.this)


def _last_day(compiler: ExprCompiler, node: exp.Expression) -> Any:
    date = date_value(compiler, node.this)
    if date is None:
        return None
    month = {"$dateTrunc": {"date": date, "unit": "month"}}
    next_month = {"$dateAdd": {"startDate": month, "unit": "month", "amount": 1}}
    return {"$dateSubtract": {"startDate": next_month, "unit": "day", "amount": 1}}


def _curdate(compiler: ExprCompiler, node: exp.Expression) -> Any:
    return {"$dateTrunc": {"date": "$$NOW", "unit": "day"}}


def _unix_timestamp(compiler: ExprCompiler, node: exp.Expression) -> Any:
    """Seconds since 1970: a whole number unless the date has milliseconds."""
    if len(node.expressions) > 1:
        raise SemanticError("UNIX_TIMESTAMP takes at most one argument", node=node, code="QL304")
    if not node.expressions:
        return {"$toLong": {"$divide": [{"$toLong": "$$NOW"}, 1000]}}
    date = date_value(compiler, node.expressions[0])
    if date is None:
        return None
    seconds = {"$divide": ["$$qm", 1000]}
    whole = {"$eq": [{"$mod": ["$$qm", 1000]}, 0]}
    return _let("qm", {"$toLong": date}, {"$cond": [whole, {"$toLong": seconds}, seconds]})


def _from_unixtime(compiler: ExprCompiler, node: exp.Expression) -> Any:
    seconds = compiler.value(node.this)
    if mql.is_constant(seconds) and mql.constant_of(seconds) is None:
        return None
    date = {"$add": [EPOCH, {"$multiply": [seconds, 1000]}]}
    if node.args.get("format") is None:
        return date
    return format_date(date, mysql_format(compiler, node.args.get("format"), node), node)


def _now_anonymous(compiler: ExprCompiler, node: exp.Expression) -> Any:
    return "$$NOW"


DATE_RESULTS: tuple[type, ...] = (
    exp.DateAdd,
    exp.DateSub,
    exp.TimestampAdd,
    exp.CurrentTimestamp,
    exp.CurrentDate,
    exp.UtcTimestamp,
    exp.Localtimestamp,
    exp.DateTrunc,
    exp.TsOrDsToDate,
    exp.LastDay,
    exp.Timestamp,
)

functions.TYPED.update(
    {
        exp.Add: _add,
        exp.Sub: _sub,
        exp.DateAdd: _date_add(1),
        exp.DateSub: _date_add(-1),
        exp.TimestampAdd: _date_add(1),
        exp.TimestampDiff: _timestamp_diff,
        exp.DateDiff: _datediff,
        exp.TimeToStr: _date_format,
        exp.Extract: _extract,
        exp.Year: _part("$year"),
        exp.Month: _part("$month"),
        exp.Day: _part("$dayOfMonth"),
        exp.DayOfMonth: _part("$dayOfMonth"),
        exp.DayOfWeek: _part("$dayOfWeek"),
        exp.DayOfYear: _part("$dayOfYear"),
        exp.Hour: _part("$hour", unwrap=False),
        exp.Minute: _part("$minute", unwrap=False),
        exp.Second: _part("$second", unwrap=False),
        exp.Quarter: _quarter_function,
        exp.Week: _week,
        exp.Dayname: _dayname,
        exp.DateTrunc: _date_trunc,
        exp.TsOrDsToDate: _date,
        exp.TsOrDsToTimestamp: lambda c, n: date_value(c, n.this),
        exp.Timestamp: _timestamp,
        exp.LastDay: _last_day,
        exp.CurrentDate: _curdate,
        exp.UtcTimestamp: _now_anonymous,
        exp.Localtimestamp: _now_anonymous,
        exp.UnixToTime: _from_unixtime,
    }
)
functions.ANONYMOUS.update(
    {
        "SYSDATE": _now_anonymous,
        "UTC_TIMESTAMP": _now_anonymous,
        "CURDATE": _curdate,
        "ADDDATE": _adddate(1),
        "SUBDATE": _adddate(-1),
        "WEEKDAY": _weekday,
        "MICROSECOND": _microsecond,
        "UNIX_TIMESTAMP": _unix_timestamp,
    }
)
functions.KNOWN_NAMES.update(
    {
        "CURDATE", "CURRENT_DATE", "DATE_ADD", "DATE_SUB", "ADDDATE", "SUBDATE",
        "TIMESTAMPADD", "TIMESTAMPDIFF", "DATEDIFF", "DATE_FORMAT", "EXTRACT", "YEAR",
        "MONTH", "DAY", "DAYOFMONTH", "HOUR", "MINUTE", "SECOND", "MICROSECOND", "DAYOFWEEK",
        "DAYOFYEAR", "WEEK", "WEEKDAY", "QUARTER", "DAYNAME", "MONTHNAME", "DATE_TRUNC",
        "DATE", "TIMESTAMP", "LAST_DAY", "UNIX_TIMESTAMP", "FROM_UNIXTIME", "SYSDATE",
        "UTC_TIMESTAMP", "LOCALTIMESTAMP",
    }
)  # fmt: skip
