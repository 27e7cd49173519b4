"""Date operators. The sample instant 2021-03-04T05:06:07.089Z is a Thursday, day 63 of 2021."""

from __future__ import annotations

import datetime as dt

import pytest

UTC = dt.UTC
SAMPLE = {"d": dt.datetime(2021, 3, 4, 5, 6, 7, 89000, UTC)}


def at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    "name",
    ["$year", "$month", "$dayOfMonth", "$hour", "$minute", "$second", "$millisecond",
     "$dayOfWeek", "$dayOfYear", "$week", "$isoWeek", "$isoWeekYear", "$isoDayOfWeek"],
)  # fmt: skip
def test_date_parts_of_null_or_missing_are_null(project, name):
    assert project({name: "$missing"}) == {"r": None}
    assert project({name: None}) == {"r": None}


def test_date_parts(project):
    parts = {"$year": 2021, "$month": 3, "$dayOfMonth": 4, "$hour": 5, "$minute": 6,
             "$second": 7, "$millisecond": 89, "$dayOfWeek": 5, "$dayOfYear": 63,
             "$week": 9, "$isoWeek": 9, "$isoDayOfWeek": 4}  # fmt: skip
    for name, expected in parts.items():
        assert project({name: "$d"}, SAMPLE) == {"r": expected}, name
    assert project({"$isoWeekYear": at(2021, 1, 1)}) == {"r": 2020}
    assert project({"$hour": {"date": "$d", "timezone": "+02:00"}}, SAMPLE) == {"r": 7}
    assert project({"$year": ["$d"]}, SAMPLE) == {"r": 2021}


def test_date_to_string_specifiers(project):
    def fmt(pattern, **extra):
        return project({"$dateToString": {"date": "$d", "format": pattern, **extra}}, SAMPLE)["r"]

    assert fmt("%Y-%m-%d %H:%M:%S") == "2021-03-04 05:06:07"
    assert fmt("%L") == "089"
    assert fmt("%j %U %w %u %V %G") == "063 09 5 4 09 2021"  # %w: 1 = Sunday
    assert fmt("%H:%M %z %Z", timezone="America/New_York") == "00:06 -0500 -300"
    assert fmt("%H:%M", timezone="+05:30") == "10:36"
    assert fmt("100%%") == "100%"


def test_date_to_string_defaults_and_on_null(project):
    assert project({"$dateToString": {"date": "$d"}}, SAMPLE) == {"r": "2021-03-04T05:06:07.089Z"}
    local = project({"$dateToString": {"date": "$d", "timezone": "+01:00"}}, SAMPLE)
    assert local == {"r": "2021-03-04T06:06:07.089"}
    assert project({"$dateToString": {"date": "$missing", "format": "%Y"}}) == {"r": None}
    on_null = {"date": "$missing", "format": "%Y", "onNull": "none"}
    assert project({"$dateToString": on_null}) == {"r": "none"}


@pytest.mark.parametrize(
    ("start", "end", "unit", "expected"),
    [
        (at(2021, 1, 1, 23), at(2021, 1, 2, 1), "day", 1),
        (at(2021, 1, 2, 1), at(2021, 1, 1, 23), "day", -1),
        (at(2020, 12, 31), at(2021, 1, 1), "year", 1),
        (at(2021, 3, 31), at(2021, 4, 1), "quarter", 1),
        (at(2021, 1, 31), at(2021, 2, 1), "month", 1),
        (at(2021, 1, 2), at(2021, 1, 3), "week", 1),  # Saturday -> Sunday
        (at(2021, 1, 1, 0, 59), at(2021, 1, 1, 1, 0), "hour", 1),
        (at(2021, 1, 1, 0, 0, 59), at(2021, 1, 1, 0, 1), "minute", 1),
        (dt.datetime(2021, 1, 1, 0, 0, 0, 999000, UTC), at(2021, 1, 1, 0, 0, 1), "second", 1),
        (at(2021, 1, 1), at(2021, 1, 1, 0, 0, 1), "millisecond", 1000),
    ],
)
def test_date_diff_counts_boundaries_crossed(project, start, end, unit, expected):
    spec = {"startDate": start, "endDate": end, "unit": unit}
    assert project({"$dateDiff": spec}) == {"r": expected}


def test_date_diff_timezone_start_of_week_and_null(project):
    spec = {"startDate": at(2021, 1, 1, 3), "endDate": at(2021, 1, 1, 6), "unit": "day"}
    assert project({"$dateDiff": spec}) == {"r": 0}
    assert project({"$dateDiff": {**spec, "timezone": "America/New_York"}}) == {"r": 1}
    week = {"startDate": at(2021, 1, 2), "endDate": at(2021, 1, 3), "unit": "week"}
    assert project({"$dateDiff": {**week, "startOfWeek": "monday"}}) == {"r": 0}
    assert project({"$dateDiff": {**spec, "startDate": "$missing"}}) == {"r": None}


def test_date_add_clamps_to_the_end_of_the_month(project):
    def add(start, unit, amount, **extra):
        spec = {"startDate": start, "unit": unit, "amount": amount, **extra}
        return project({"$dateAdd": spec})["r"]

    assert add(at(2020, 10, 31), "month", 1) == at(2020, 11, 30)
    assert add(at(2021, 1, 31), "month", 1) == at(2021, 2, 28)
    assert add(at(2020, 2, 29), "year", 1) == at(2021, 2, 28)
    assert add(at(2021, 1, 31), "day", 2) == at(2021, 2, 2)
    assert add(at(2021, 1, 31), "hour", -1) == at(2021, 1, 30, 23)
    # Days keep the local time across a DST change; hours are absolute.
    assert add(at(2021, 3, 13, 17), "day", 1, timezone="America/New_York") == at(2021, 3, 14, 16)
    assert add(at(2020, 11, 1, 5, 50), "hour", 1, timezone="America/New_York") == at(
        2020, 11, 1, 6, 50
    )
    assert add("$missing", "day", 1) is None


def test_date_subtract(project):
    spec = {"startDate": at(2021, 3, 31), "unit": "month", "amount": 1}
    assert project({"$dateSubtract": spec}) == {"r": at(2021, 2, 28)}
    assert project({"$dateSubtract": {**spec, "unit": "week"}}) == {"r": at(2021, 3, 24)}


def test_date_trunc(project):
    def trunc(**spec):
        return project({"$dateTrunc": {"date": "$d", **spec}}, SAMPLE)["r"]

    assert trunc(unit="month") == at(2021, 3, 1)
    assert trunc(unit="quarter") == at(2021, 1, 1)
    assert trunc(unit="week") == at(2021, 2, 28)  # weeks start on Sunday by default
    assert trunc(unit="week", startOfWeek="monday") == at(2021, 3, 1)
    assert trunc(unit="hour", binSize=6) == at(2021, 3, 4, 0)
    assert trunc(unit="day", timezone="America/New_York") == at(2021, 3, 4, 5)
    assert project({"$dateTrunc": {"date": "$missing", "unit": "day"}}) == {"r": None}


def test_date_from_parts_milliseconds_and_carry(project):
    spec = {"year": 2021, "month": 2, "day": 3, "millisecond": 5}
    assert project({"$dateFromParts": spec}) == {"r": dt.datetime(2021, 2, 3, 0, 0, 0, 5000, UTC)}
    assert project({"$dateFromParts": {"year": 2021, "month": 14}}) == {"r": at(2022, 2, 1)}
    assert project({"$dateFromParts": {"year": "$missing"}}) == {"r": None}


def test_date_arithmetic_with_add_and_subtract(project):
    assert project({"$subtract": [at(2021, 1, 2), at(2021, 1, 1)]}) == {"r": 86_400_000}
    assert project({"$subtract": [at(2021, 1, 2), 1000]}) == {"r": at(2021, 1, 1, 23, 59, 59)}
    assert project({"$add": [at(2021, 1, 2), 1000]}) == {"r": at(2021, 1, 2, 0, 0, 1)}
