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

from queryleaf.errors import SemanticError, UnsupportedError
from queryleaf.plan import function_registry as registry
from queryleaf.plan import mql
from queryleaf.plan.functions_core import arithmetic
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


def unwrap_date_argument(node: exp.Expression) -> exp.Expression:
    """sqlglot wraps the argument of DATE_FORMAT, YEAR() & co. in a string-or-date
    conversion node; the conversion is ours to do."""
    while isinstance(node, exp.TsOrDsToTimestamp | exp.TsOrDsToDate) and not node.args.get(
        "format"
    ):
        node = node.this
    return node


def constant_or_not(compiler: ExprCompiler, node: exp.Expression) -> Any:
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
    constant = constant_or_not(compiler, node)
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


def let_var(name: str, value: Any, body: Any) -> Any:
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
    amount = constant_or_not(compiler, amount_node)
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
    return let_var(
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


def _date_add(sign: int) -> registry.Builder:
    def build(compiler: ExprCompiler, node: exp.Expression) -> Any:
        amount = node.expression
        if isinstance(amount, exp.Interval):
            amount, unit = _interval_parts(amount)
        else:
            unit = unit_of(node.args.get("unit"))
        return add_interval(compiler, node.this, amount, unit, sign, node)

    return build


def _adddate(sign: int) -> registry.Builder:
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


_PLAIN_ADD = arithmetic("$add")
_PLAIN_SUB = arithmetic("$subtract")


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
    months = let_var(
        "qlo",
        {"$min": ["$$qa", "$$qb"]},
        let_var("qhi", {"$max": ["$$qa", "$$qb"]}, {"$subtract": [boundaries, short]}),
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

registry.TYPED.update(
    {
        exp.Add: _add,
        exp.Sub: _sub,
        exp.DateAdd: _date_add(1),
        exp.DateSub: _date_add(-1),
        exp.TimestampAdd: _date_add(1),
        exp.TimestampDiff: _timestamp_diff,
        exp.DateDiff: _datediff,
    }
)
registry.ANONYMOUS.update(
    {
        "ADDDATE": _adddate(1),
        "SUBDATE": _adddate(-1),
    }
)
registry.KNOWN_NAMES.update(
    {
        "CURDATE", "CURRENT_DATE", "DATE_ADD", "DATE_SUB", "ADDDATE", "SUBDATE",
        "TIMESTAMPADD", "TIMESTAMPDIFF", "DATEDIFF", "DATE_FORMAT", "EXTRACT", "YEAR",
        "MONTH", "DAY", "DAYOFMONTH", "HOUR", "MINUTE", "SECOND", "MICROSECOND", "DAYOFWEEK",
        "DAYOFYEAR", "WEEK", "WEEKDAY", "QUARTER", "DAYNAME", "MONTHNAME", "DATE_TRUNC",
        "DATE", "TIMESTAMP", "LAST_DAY", "UNIX_TIMESTAMP", "FROM_UNIXTIME", "SYSDATE",
        "UTC_TIMESTAMP", "LOCALTIMESTAMP",
    }
)  # fmt: skip
