"""Date expression operators.

mongomock-ng crashed on null/missing dates ($year: null is null), had no %L, timezone or onNull
in $dateToString (and Python's %w differs: the server's is 1 = Sunday), counted elapsed time
instead of boundaries in $dateDiff (23:00 -> 01:00 is 1 day), lacked week units, binSize,
startOfWeek and timezones in $dateTrunc/$dateDiff, and $isoWeek, $isoWeekYear, $isoDayOfWeek.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from bson import ObjectId, Timestamp
from mongomock_ng import OperationFailure

from . import dates
from .dates import TimeZone
from .operators_convert import ConversionError, parse_iso_date
from .registry import Scope, operator
from .values import as_utc, fail, integral, is_nullish, require_integral, type_name

_EPOCH = dt.datetime(1970, 1, 1)


def to_instant(value: Any, name: str) -> dt.datetime:
    """A date, timestamp or ObjectId as a naive UTC instant."""
    if isinstance(value, dt.datetime):
        return as_utc(value)
    if isinstance(value, Timestamp):
        return _EPOCH + dt.timedelta(seconds=value.time)
    if isinstance(value, ObjectId):
        return as_utc(value.generation_time)
    fail(f"{name}: can't convert from BSON type {type_name(value)} to Date", code=16006)


def _date_and_zone(scope: Scope, name: str, argument: Any) -> tuple[dt.datetime, TimeZone] | None:
    """The argument of $year & co: `expr`, `[expr]` or `{date, timezone}`; None means null."""
    if (
        isinstance(argument, dict)
        and "date" in argument
        and not any(k.startswith("$") for k in argument)
    ):
        spec = scope.named(name, argument, ("date",), ("timezone",))
        value = scope.eval(spec["date"])
        zone_name = scope.eval(spec["timezone"]) if "timezone" in spec else None
        if "timezone" in spec and is_nullish(zone_name):
            return None
    else:
        (value,) = scope.args(name, argument, 1)
        zone_name = None
    if is_nullish(value):
        return None
    return to_instant(value, name), TimeZone.parse(zone_name)


_PARTS: dict[str, Callable[[dt.datetime], int]] = {
    "$year": lambda d: d.year,
    "$month": lambda d: d.month,
    "$dayOfMonth": lambda d: d.day,
    "$hour": lambda d: d.hour,
    "$minute": lambda d: d.minute,
    "$second": lambda d: d.second,
    "$millisecond": lambda d: d.microsecond // 1000,
    "$dayOfYear": lambda d: d.timetuple().tm_yday,
    "$dayOfWeek": lambda d: d.isoweekday() % 7 + 1,  # 1 = Sunday
    "$week": dates.sunday_week,
    "$isoWeek": lambda d: d.isocalendar()[1],
    "$isoWeekYear": lambda d: d.isocalendar()[0],
    "$isoDayOfWeek": lambda d: d.isoweekday(),
}


def _register_part(name: str, extract: Callable[[dt.datetime], int]) -> None:
    @operator(name)
    def handler(scope: Scope, argument: Any) -> int | None:
        found = _date_and_zone(scope, name, argument)
        if found is None:
            return None
        instant, zone = found
        return extract(zone.to_local(instant))


for _name, _extract in _PARTS.items():
    _register_part(_name, _extract)


@operator("$dateToString")
def _date_to_string(scope: Scope, argument: Any) -> Any:
    spec = scope.named("$dateToString", argument, ("date",), ("format", "timezone", "onNull"))
    value = scope.eval(spec["date"])
    if is_nullish(value):
        return scope.eval(spec["onNull"]) if "onNull" in spec else None
    zone_name = scope.eval(spec["timezone"]) if "timezone" in spec else None
    pattern = scope.eval(spec["format"]) if "format" in spec else None
    if ("timezone" in spec and is_nullish(zone_name)) or ("format" in spec and is_nullish(pattern)):
        return None
    zone = TimeZone.parse(zone_name)
    if pattern is None:
        pattern = "%Y-%m-%dT%H:%M:%S.%LZ" if zone.is_utc else "%Y-%m-%dT%H:%M:%S.%L"
    if not isinstance(pattern, str):
        fail(
            f"$dateToString requires that 'format' be a string, found: {type_name(pattern)}",
            code=18533,
        )
    return dates.format_date(pattern, to_instant(value, "$dateToString"), zone)


def _zone_and_week(scope: Scope, spec: dict) -> tuple[TimeZone, int] | None:
    zone_name = scope.eval(spec["timezone"]) if "timezone" in spec else None
    week_start = scope.eval(spec["startOfWeek"]) if "startOfWeek" in spec else None
    if ("timezone" in spec and is_nullish(zone_name)) or (
        "startOfWeek" in spec and is_nullish(week_start)
    ):
        return None
    return TimeZone.parse(zone_name), dates.parse_start_of_week(week_start)


def _register_add(name: str, sign: int) -> None:
    @operator(name)
    def handler(scope: Scope, argument: Any) -> dt.datetime | None:
        spec = scope.named(name, argument, ("startDate", "unit", "amount"), ("timezone",))
        start, unit, amount = (scope.eval(spec[key]) for key in ("startDate", "unit", "amount"))
        found = _zone_and_week(scope, spec)
        if found is None or any(is_nullish(value) for value in (start, unit, amount)):
            return None
        amount = require_integral(amount, f"{name} 'amount'")
        return dates.add(to_instant(start, name), dates.parse_unit(unit), sign * amount, found[0])


_register_add("$dateAdd", 1)
_register_add("$dateSubtract", -1)


@operator("$dateDiff")
def _date_diff(scope: Scope, argument: Any) -> int | None:
    spec = scope.named(
        "$dateDiff", argument, ("startDate", "endDate", "unit"), ("timezone", "startOfWeek")
    )
    start, end, unit = (scope.eval(spec[key]) for key in ("startDate", "endDate", "unit"))
    found = _zone_and_week(scope, spec)
    if found is None or any(is_nullish(value) for value in (start, end, unit)):
        return None
    start, end = to_instant(start, "$dateDiff"), to_instant(end, "$dateDiff")
    return integral(dates.diff(start, end, dates.parse_unit(unit), *found), "long")


@operator("$dateTrunc")
def _date_trunc(scope: Scope, argument: Any) -> dt.datetime | None:
    spec = scope.named(
        "$dateTrunc", argument, ("date", "unit"), ("binSize", "timezone", "startOfWeek")
    )
    value, unit = scope.eval(spec["date"]), scope.eval(spec["unit"])
    bin_size = scope.eval(spec["binSize"]) if "binSize" in spec else 1
    found = _zone_and_week(scope, spec)
    if found is None or any(is_nullish(item) for item in (value, unit, bin_size)):
        return None
    bin_size = require_integral(bin_size, "$dateTrunc 'binSize'")
    if bin_size <= 0:
        fail("$dateTrunc requires 'binSize' to be greater than 0", code=5439017)
    return dates.trunc(to_instant(value, "$dateTrunc"), dates.parse_unit(unit), bin_size, *found)


_CALENDAR_PARTS = {"year": None, "month": 1, "day": 1}
_ISO_PARTS = {"isoWeekYear": None, "isoWeek": 1, "isoDayOfWeek": 1}
_TIME_PARTS = {"hour": 0, "minute": 0, "second": 0, "millisecond": 0}


@operator("$dateFromParts")
def _date_from_parts(scope: Scope, argument: Any) -> dt.datetime | None:
    # mongomock-ng took milliseconds for microseconds and knew neither ISO parts nor timezones.
    iso = isinstance(argument, dict) and "isoWeekYear" in argument
    date_parts = _ISO_PARTS if iso else _CALENDAR_PARTS
    spec = scope.named(
        "$dateFromParts",
        argument,
        [next(iter(date_parts))],
        [*date_parts, *_TIME_PARTS, "timezone"],
    )
    parts: dict[str, int] = {}
    for key, default in {**date_parts, **_TIME_PARTS}.items():
        value = scope.eval(spec[key]) if key in spec else default
        if is_nullish(value):
            return None
        parts[key] = require_integral(value, f"'{key}' in $dateFromParts")
    zone_name = scope.eval(spec["timezone"]) if "timezone" in spec else None
    if "timezone" in spec and is_nullish(zone_name):
        return None
    first = parts["isoWeekYear" if iso else "year"]
    if not 1 <= first <= 9999:
        fail(
            f"'{'isoWeekYear' if iso else 'year'}' must evaluate to an integer in the range 1 to 9999, found {first}",
            code=40523,
        )
    if iso:
        local = dt.datetime.fromisocalendar(first, 1, 1)
        local += dt.timedelta(weeks=parts["isoWeek"] - 1, days=parts["isoDayOfWeek"] - 1)
    else:
        local = dates.add_months(dt.datetime(first, 1, 1), parts["month"] - 1)
        local += dt.timedelta(days=parts["day"] - 1)
    local += dt.timedelta(
        hours=parts["hour"],
        minutes=parts["minute"],
        seconds=parts["second"],
        milliseconds=parts["millisecond"],
    )
    return TimeZone.parse(zone_name).to_utc(local)


# $dateFromString's format language mapped to strptime's (both are strftime-like).
_PARSE_FORMAT = {"Y": "%Y", "m": "%m", "d": "%d", "H": "%H", "M": "%M", "S": "%S", "L": "%f", "j": "%j",
                 "z": "%z", "G": "%G", "V": "%V", "u": "%u", "b": "%b", "B": "%B", "%": "%%"}  # fmt: skip


@operator("$dateFromString")
def _date_from_string(scope: Scope, argument: Any) -> Any:
    spec = scope.named(
        "$dateFromString", argument, ("dateString",), ("format", "timezone", "onError", "onNull")
    )
    text = scope.eval(spec["dateString"])
    if is_nullish(text):
        return scope.eval(spec["onNull"]) if "onNull" in spec else None
    zone_name = scope.eval(spec["timezone"]) if "timezone" in spec else None
    pattern = scope.eval(spec["format"]) if "format" in spec else None
    if ("timezone" in spec and is_nullish(zone_name)) or ("format" in spec and is_nullish(pattern)):
        return None
    try:
        if not isinstance(text, str):
            raise ConversionError(
                f"$dateFromString requires that 'dateString' be a string, found: {type_name(text)}",
                code=241,
            )
        parsed = _parse(text, pattern)
    except ConversionError:
        if "onError" in spec:
            return scope.eval(spec["onError"])
        raise
    if parsed.tzinfo is not None:
        return as_utc(parsed)
    return TimeZone.parse(zone_name).to_utc(parsed)


def _parse(text: str, pattern: str | None) -> dt.datetime:
    if pattern is None:
        return parse_iso_date(text)
    translated = re.sub(r"%(.)", lambda m: _PARSE_FORMAT.get(m.group(1), "\0"), pattern)
    if "\0" in translated:
        raise OperationFailure(f"Invalid format character in format string '{pattern}'", code=18536)
    try:
        return dt.datetime.strptime(text, translated)
    except ValueError:
        raise ConversionError(
            f"Error parsing date string '{text}' with format '{pattern}'", code=241
        ) from None
