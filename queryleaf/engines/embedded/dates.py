"""Calendar arithmetic for the date operators, following the server's definitions.

All instants are naive UTC datetimes; a `TimeZone` maps them to and from local wall-clock time.
$dateDiff counts unit boundaries crossed in local time, $dateAdd adds calendar units in local
time (clamping the day to the end of the month), $dateTrunc bins from 2000-01-01 local time.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import zoneinfo
from typing import Any

from .values import fail

UNITS = ("year", "quarter", "month", "week", "day", "hour", "minute", "second", "millisecond")
_FIXED_UNITS = {
    "week": dt.timedelta(weeks=1),
    "day": dt.timedelta(days=1),
    "hour": dt.timedelta(hours=1),
    "minute": dt.timedelta(minutes=1),
    "second": dt.timedelta(seconds=1),
    "millisecond": dt.timedelta(milliseconds=1),
}
# Day names accepted by startOfWeek, to ISO weekday numbers (Monday = 1).
_WEEKDAYS = {
    **dict.fromkeys(("monday", "mon"), 1),
    **dict.fromkeys(("tuesday", "tue"), 2),
    **dict.fromkeys(("wednesday", "wed"), 3),
    **dict.fromkeys(("thursday", "thu"), 4),
    **dict.fromkeys(("friday", "fri"), 5),
    **dict.fromkeys(("saturday", "sat"), 6),
    **dict.fromkeys(("sunday", "sun"), 7),
}
_OFFSET = re.compile(r"([+-])(\d{2})(?::?(\d{2}))?")
_REFERENCE = dt.datetime(2000, 1, 1)  # $dateTrunc's bin origin, a Saturday


class TimeZone:
    """An Olson zone or a fixed UTC offset, as accepted by the `timezone` arguments."""

    def __init__(self, tzinfo: dt.tzinfo | None, name: str = "UTC") -> None:
        self.tzinfo = tzinfo
        self.name = name

    @classmethod
    def parse(cls, name: Any) -> TimeZone:
        if name is None:
            return UTC
        if not isinstance(name, str):
            fail(f"timezone must evaluate to a string, found {type(name).__name__}", code=40533)
        match = _OFFSET.fullmatch(name)
        if match:
            sign, hours, minutes = match.groups()
            offset = dt.timedelta(hours=int(hours), minutes=int(minutes or 0))
            return cls(dt.timezone(-offset if sign == "-" else offset), name)
        if name in ("UTC", "GMT", "Z"):
            return UTC
        try:
            return cls(zoneinfo.ZoneInfo(name), name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            fail(f'unrecognized time zone identifier: "{name}"', code=40485)

    @property
    def is_utc(self) -> bool:
        return self.tzinfo is None

    def to_local(self, instant: dt.datetime) -> dt.datetime:
        if self.tzinfo is None:
            return instant
        return instant.replace(tzinfo=dt.UTC).astimezone(self.tzinfo).replace(tzinfo=None)

    def to_utc(self, local: dt.datetime) -> dt.datetime:
        if self.tzinfo is None:
            return local
        return local.replace(tzinfo=self.tzinfo).astimezone(dt.UTC).replace(tzinfo=None)

    def offset(self, instant: dt.datetime) -> dt.timedelta:
        return self.to_local(instant) - instant


UTC = TimeZone(None)


def parse_unit(unit: Any) -> str:
    if unit not in UNITS:
        fail(
            f"unknown time unit value: {unit}", code=40015 if not isinstance(unit, str) else 5439014
        )
    return unit


def parse_start_of_week(name: Any) -> int:
    if name is None:
        return 7
    if not isinstance(name, str) or name.lower() not in _WEEKDAYS:
        fail(f"unknown day of week value: {name}", code=5439015)
    return _WEEKDAYS[name.lower()]


def sunday_week(local: dt.datetime) -> int:
    """Week of the year, weeks starting on Sunday, days before the first Sunday in week 0."""
    day_of_year = local.timetuple().tm_yday - 1
    sunday_based_weekday = local.isoweekday() % 7
    return (day_of_year + 7 - sunday_based_weekday) // 7


def add_months(local: dt.datetime, months: int) -> dt.datetime:
    index = local.year * 12 + local.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        fail("dateAdd overflowed", code=5166406)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    return local.replace(year=year, month=month + 1, day=day)


def add(instant: dt.datetime, unit: str, amount: int, zone: TimeZone) -> dt.datetime:
    try:
        if unit in ("year", "quarter", "month"):
            months = amount * {"year": 12, "quarter": 3, "month": 1}[unit]
            return zone.to_utc(add_months(zone.to_local(instant), months))
        if unit in ("day", "week"):
            # Calendar days keep the local time of day across DST changes.
            return zone.to_utc(zone.to_local(instant) + _FIXED_UNITS[unit] * amount)
        return instant + _FIXED_UNITS[unit] * amount
    except OverflowError:
        fail("dateAdd overflowed", code=5166406)


def _trunc_div(numerator: int, denominator: int) -> int:
    quotient = abs(numerator) // denominator
    return quotient if numerator >= 0 else -quotient


def _day_number(local: dt.datetime) -> int:
    return local.toordinal()


def _weekday_index(local: dt.datetime, start_of_week: int) -> int:
    return (local.isoweekday() - start_of_week) % 7


def diff(
    start: dt.datetime, end: dt.datetime, unit: str, zone: TimeZone, start_of_week: int = 7
) -> int:
    """Number of `unit` boundaries crossed going from `start` to `end` (negative if before)."""
    if unit == "millisecond":
        return (end - start) // dt.timedelta(milliseconds=1)
    local_start, local_end = zone.to_local(start), zone.to_local(end)
    if unit == "year":
        return local_end.year - local_start.year
    if unit == "quarter":
        return (
            (local_end.year - local_start.year) * 4
            + (local_end.month - 1) // 3
            - (local_start.month - 1) // 3
        )
    if unit == "month":
        return (local_end.year - local_start.year) * 12 + local_end.month - local_start.month
    days = _day_number(local_end) - _day_number(local_start)
    if unit == "day":
        return days
    if unit == "week":
        return (
            days
            + _weekday_index(local_start, start_of_week)
            - _weekday_index(local_end, start_of_week)
        ) // 7
    # hour, minute, second: local clock difference, corrected by any change of UTC offset.
    offset_change = int((zone.offset(start) - zone.offset(end)).total_seconds())
    hours = days * 24 + local_end.hour - local_start.hour
    if unit == "hour":
        return hours + _trunc_div(offset_change, 3600)
    minutes = hours * 60 + local_end.minute - local_start.minute
    if unit == "minute":
        return minutes + _trunc_div(offset_change, 60)
    return minutes * 60 + local_end.second - local_start.second + offset_change


def trunc(
    instant: dt.datetime, unit: str, bin_size: int, zone: TimeZone, start_of_week: int = 7
) -> dt.datetime:
    """Lower bound of the `bin_size`-unit bin holding `instant`, bins counted from 2000-01-01."""
    reference_local = _REFERENCE
    if unit == "week":
        # The first `start_of_week` day on or after 2000-01-01 (a Saturday, ISO day 6).
        reference_local += dt.timedelta(days=(start_of_week - 6) % 7)
    reference = reference_local - zone.offset(_REFERENCE)
    if unit in ("hour", "minute", "second", "millisecond"):
        size = _FIXED_UNITS[unit] * bin_size
        return instant - (instant - reference) % size
    distance = diff(reference, instant, unit, zone, start_of_week)
    return add(reference, unit, distance - distance % bin_size, zone)


_MONTHS = [calendar.month_name[number] for number in range(1, 13)]


def format_date(pattern: str, instant: dt.datetime, zone: TimeZone) -> str:
    """$dateToString's format language (%Y, %m, %d, %H, %M, %S, %L, %j, %w, %u, %U, %V, %G,
    %z, %Z, %b, %B, %%)."""
    local = zone.to_local(instant)
    offset_minutes = int(zone.offset(instant).total_seconds()) // 60
    sign = "-" if offset_minutes < 0 else "+"
    iso_year, iso_week, iso_day = local.isocalendar()
    fields = {
        "Y": f"{local.year:04d}",
        "m": f"{local.month:02d}",
        "d": f"{local.day:02d}",
        "H": f"{local.hour:02d}",
        "M": f"{local.minute:02d}",
        "S": f"{local.second:02d}",
        "L": f"{local.microsecond // 1000:03d}",
        "j": f"{local.timetuple().tm_yday:03d}",
        "w": str(local.isoweekday() % 7 + 1),  # 1 = Sunday ... 7 = Saturday
        "u": str(iso_day),
        "U": f"{sunday_week(local):02d}",
        "V": f"{iso_week:02d}",
        "G": f"{iso_year:04d}",
        "z": f"{sign}{abs(offset_minutes) // 60:02d}{abs(offset_minutes) % 60:02d}",
        "Z": f"{sign}{abs(offset_minutes):03d}",
        "b": _MONTHS[local.month - 1][:3],
        "B": _MONTHS[local.month - 1],
        "%": "%",
    }
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char != "%":
            out.append(char)
            index += 1
            continue
        if index + 1 >= len(pattern):
            fail("Unmatched '%' at end of format string", code=18535)
        specifier = pattern[index + 1]
        if specifier not in fields:
            fail(f"Invalid format character '%{specifier}' in format string", code=18536)
        out.append(fields[specifier])
        index += 2
    return "".join(out)
