"""Date parts and conversions: YEAR() ... SECOND(), EXTRACT, WEEK, WEEKDAY, DAYNAME,
DATE_TRUNC, DATE(), TIMESTAMP(), LAST_DAY, CURDATE, UNIX_TIMESTAMP, FROM_UNIXTIME."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlglot import exp

from queryleaf.errors import SemanticError, UnsupportedError
from queryleaf.plan import function_registry as registry
from queryleaf.plan import mql
from queryleaf.plan.functions_date import (
    COMPOUND_UNITS,
    DAY_NAMES,
    EPOCH,
    constant_or_not,
    date_value,
    let_var,
    unit_of,
    unwrap_date_argument,
)
from queryleaf.plan.functions_date_format import (
    format_date,
    mysql_format,
    name_of,
    quarter_of,
    week_mode_1,
)

if TYPE_CHECKING:
    from queryleaf.plan.expressions import ExprCompiler


def _part(operator: str, unwrap: bool = True) -> registry.Builder:
    def build(compiler: ExprCompiler, node: exp.Expression) -> Any:
        date = date_value(compiler, unwrap_date_argument(node.this) if unwrap else node.this)
        return None if date is None else {operator: date}

    return build


def _quarter_function(compiler: ExprCompiler, node: exp.Expression) -> Any:
    date = date_value(compiler, unwrap_date_argument(node.this))
    return None if date is None else let_var("qd", date, quarter_of("$$qd"))


def _week(compiler: ExprCompiler, node: exp.Expression) -> Any:
    date = date_value(compiler, unwrap_date_argument(node.this))
    mode_node = node.args.get("mode")
    mode = 0 if mode_node is None else constant_or_not(compiler, mode_node)
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
    return let_var("qd", date, mql.null_guard(["$$qd"], week_mode_1("$$qd")))


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
    date = date_value(compiler, unwrap_date_argument(node.this))
    return None if date is None else name_of(DAY_NAMES, {"$dayOfWeek": date})


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
    "QUARTER": quarter_of,
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
    return let_var("qd", date, body)


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
    return let_var("qm", {"$toLong": date}, {"$cond": [whole, {"$toLong": seconds}, seconds]})


def _from_unixtime(compiler: ExprCompiler, node: exp.Expression) -> Any:
    seconds = compiler.value(node.this)
    if mql.is_constant(seconds) and mql.constant_of(seconds) is None:
        return None
    # MySQL: NULL outside 0 .. 32536771199 seconds (3001-01-19), and for NULL.
    in_range = {"$and": [{"$gte": ["$$qu", 0]}, {"$lte": ["$$qu", 32536771199]}]}
    moment = {"$cond": [in_range, {"$add": [EPOCH, {"$multiply": ["$$qu", 1000]}]}, None]}
    date = {"$let": {"vars": {"qu": seconds}, "in": moment}}
    if node.args.get("format") is None:
        return date
    return format_date(date, mysql_format(compiler, node.args.get("format"), node), node)


def _now_anonymous(compiler: ExprCompiler, node: exp.Expression) -> Any:
    return "$$NOW"


registry.TYPED.update(
    {
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
registry.ANONYMOUS.update(
    {
        "SYSDATE": _now_anonymous,
        "UTC_TIMESTAMP": _now_anonymous,
        "CURDATE": _curdate,
        "WEEKDAY": _weekday,
        "MICROSECOND": _microsecond,
        "UNIX_TIMESTAMP": _unix_timestamp,
    }
)
