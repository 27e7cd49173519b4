"""A value as MySQL prints it in text (CONCAT, CAST(... AS CHAR), GROUP_CONCAT).

MongoDB's `$toString` prints a double with six significant digits (`1e+06`), a date in
ISO-8601 form and a boolean as `true`; MySQL prints a double in full (`1000000`,
`0.000000125`, `1e20`), a date as `2024-01-31 10:00:00` and TRUE as `1`. `text_of` computes
MySQL's form in the pipeline: a double's digits come from `$toDecimal` (15 significant
digits), written in fixed notation when its decimal exponent is between -15 and 14 and as
`1.5e20` otherwise; a date is `%Y-%m-%d %H:%M:%S`, with `.%L` when it has milliseconds. Other
values go through `$toString`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from typing import Any

from bson import Decimal128

from queryleaf.plan import mql

_ZEROS = "0" * 20


def _let(variables: dict[str, Any], body: Any) -> Any:
    return {"$let": {"vars": variables, "in": body}}


def _zeros(count: Any) -> Any:
    return {"$substrCP": [_ZEROS, 0, {"$max": [count, 0]}]}


def double_text(v: str) -> Any:
    """The text of the double in variable `v` (a "$$name"), as MySQL prints it."""
    exponent = {"$toLong": {"$floor": {"$log10": "$$qa"}}}
    scaled = {
        "$round": [
            {"$divide": ["$$qa", {"$pow": [Decimal128("10"), {"$subtract": ["$$qe", 14]}]}]},
            0,
        ]
    }
    # "125000000000000" → "125": the significant digits, and how many there are.
    digits = {"$rtrim": {"input": {"$toString": {"$toLong": "$$qm"}}, "chars": "0"}}
    integer_digits = {"$add": ["$$qe", 1]}
    fixed_large = {
        "$concat": [
            {"$substrCP": ["$$qg", 0, integer_digits]},
            _zeros({"$subtract": [integer_digits, "$$qk"]}),
            {
                "$cond": [
                    {"$gt": ["$$qk", integer_digits]},
                    {"$concat": [".", {"$substrCP": ["$$qg", integer_digits, 20]}]},
                    "",
                ]
            },
        ]
    }
    fixed_small = {"$concat": ["0.", _zeros({"$subtract": [-1, "$$qe"]}), "$$qg"]}
    scientific = {
        "$concat": [
            {"$substrCP": ["$$qg", 0, 1]},
            {
                "$cond": [
                    {"$gt": ["$$qk", 1]},
                    {"$concat": [".", {"$substrCP": ["$$qg", 1, 20]}]},
                    "",
                ]
            },
            "e",
            {"$toString": "$$qe"},
        ]
    }
    body = {
        "$switch": {
            "branches": [
                {
                    "case": {"$and": [{"$gte": ["$$qe", 0]}, {"$lte": ["$$qe", 14]}]},
                    "then": fixed_large,
                },
                {
                    "case": {"$and": [{"$lt": ["$$qe", 0]}, {"$gte": ["$$qe", -15]}]},
                    "then": fixed_small,
                },
            ],
            "default": scientific,
        }
    }
    formatted = _let({"qg": digits}, _let({"qk": {"$strLenCP": "$$qg"}}, body))
    # The 15 digits of the mantissa; a log10 that lands one off is corrected here.
    normalised = _let(
        {"qm": scaled},
        {
            "$cond": [
                {"$gte": ["$$qm", Decimal128("1E15")]},
                _let(
                    {"qe": {"$add": ["$$qe", 1]}, "qm": {"$round": [{"$divide": ["$$qm", 10]}, 0]}},
                    formatted,
                ),
                formatted,
            ]
        },
    )
    magnitude = _let({"qe": exponent}, normalised)
    signed = {
        "$concat": [
            {"$cond": [{"$lt": [v, 0]}, "-", ""]},
            _let({"qa": {"$abs": {"$toDecimal": v}}}, magnitude),
        ]
    }
    finite = {"$and": [{"$ne": [v, 0]}, {"$lt": [{"$abs": v}, float("inf")]}]}
    return {"$cond": [finite, signed, {"$cond": [{"$eq": [v, 0]}, "0", {"$toString": v}]}]}


def date_text(v: str) -> Any:
    """The text of the date in variable `v`, as MySQL prints a DATETIME."""
    seconds = {"$dateToString": {"date": v, "format": "%Y-%m-%d %H:%M:%S"}}
    millis = {"$dateToString": {"date": v, "format": ".%L"}}
    return {"$concat": [seconds, {"$cond": [{"$eq": [{"$millisecond": v}, 0]}, "", millis]}]}


def text_of(x: Any) -> Any:
    """`x` as text, as MySQL prints it (NULL stays NULL)."""
    if mql.is_constant(x):
        value = mql.constant_of(x)
        if value is None or isinstance(value, str):
            return x
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, float):
            return mql.literal(python_double_text(value))
        if isinstance(value, dt.datetime):
            text = value.strftime("%Y-%m-%d %H:%M:%S")
            return text + (f".{value.microsecond // 1000:03d}" if value.microsecond >= 1000 else "")
        return {"$toString": x}
    body = {
        "$switch": {
            "branches": [
                {"case": {"$eq": [{"$type": "$$qv"}, "double"]}, "then": double_text("$$qv")},
                {"case": {"$eq": [{"$type": "$$qv"}, "date"]}, "then": date_text("$$qv")},
                {
                    "case": {"$eq": [{"$type": "$$qv"}, "bool"]},
                    "then": {"$cond": ["$$qv", "1", "0"]},
                },
            ],
            "default": {"$toString": "$$qv"},
        }
    }
    return _let({"qv": x}, body)


def python_double_text(value: float) -> str:
    """A constant double as MySQL prints it (the shortest digits that read back the same)."""
    if value == 0:
        return "0"
    if math.isnan(value) or math.isinf(value):
        return repr(value)
    normal = decimal.Decimal(repr(abs(value))).normalize().as_tuple()
    coefficient = "".join(str(d) for d in normal.digits)
    exponent = len(coefficient) - 1 + int(normal.exponent)
    sign = "-" if value < 0 else ""
    if 0 <= exponent <= 14:
        whole = coefficient[: exponent + 1].ljust(exponent + 1, "0")
        rest = coefficient[exponent + 1 :]
        return sign + whole + ("." + rest if rest else "")
    if -15 <= exponent < 0:
        return sign + "0." + "0" * (-exponent - 1) + coefficient
    rest = coefficient[1:]
    return sign + coefficient[0] + ("." + rest if rest else "") + "e" + str(exponent)
