"""Row comparison for result tests: numbers compare by value (int 3 equals 3.0) and floats
with a relative tolerance, since MongoDB and SQL engines add doubles in different orders."""

from __future__ import annotations

import math
from typing import Any


def same_value(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def same_rows(got: list[dict[str, Any]], expected: list[dict[str, Any]], ordered: bool) -> bool:
    if len(got) != len(expected):
        return False
    if ordered:
        return all(same_value(g, e) for g, e in zip(got, expected, strict=True))
    remaining = list(expected)
    for row in got:
        match = next((i for i, e in enumerate(remaining) if same_value(row, e)), None)
        if match is None:
            return False
        remaining.pop(match)
    return True
