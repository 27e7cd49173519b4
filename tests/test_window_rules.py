"""Every $setWindowFields queryleaf emits is valid by MongoDB's documented rules: operators
that rank, shift or take the first/last document of a window ($rank, $denseRank,
$documentNumber, $shift, $first, $last, ...) and bounded `documents` or `range` windows come
with a sortBy, even where the SQL has no ORDER BY (FIRST_VALUE over a CURRENT ROW frame)."""

from __future__ import annotations

from typing import Any

import pytest

from queryleaf.compile import compile_statement
from queryleaf.errors import QueryLeafError
from tests.case_files import load_cases

# The operators MongoDB documents as needing sortBy (stated here, not read from the code).
SORT_REQUIRED = {"$rank", "$denseRank", "$documentNumber", "$shift", "$first", "$last",
                 "$derivative", "$integral", "$expMovingAvg", "$linearFill"}  # fmt: skip
EXTRA = [
    "SELECT FIRST_VALUE(x) OVER (ROWS BETWEEN CURRENT ROW AND CURRENT ROW) AS f FROM t",
    "SELECT LAST_VALUE(x) OVER (PARTITION BY g ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS l "
    "FROM t",
    "SELECT ROW_NUMBER() OVER () AS n, LAG(x) OVER () AS p FROM t",
    "SELECT SUM(x) OVER (ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS s FROM t",
    "SELECT NTH_VALUE(x, 2) OVER (PARTITION BY g) AS v, FIRST_VALUE(x) OVER () AS f FROM t",
]
STATEMENTS = [case["sql"] for case in load_cases("results") if "OVER" in case.get("sql", "")]
STATEMENTS += EXTRA


def _stages(value: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        if "$setWindowFields" in value:
            found.append(value["$setWindowFields"])
        for item in value.values():
            found += _stages(item)
    elif isinstance(value, list):
        for item in value:
            found += _stages(item)
    return found


def _problems(stage: dict[str, Any]) -> list[str]:
    if stage.get("sortBy"):
        return []
    problems = []
    for name, spec in stage["output"].items():
        operators = SORT_REQUIRED & set(spec)
        window = spec.get("window") or {}
        bounded = "range" in window or window.get("documents", ["unbounded"] * 2) != [
            "unbounded",
            "unbounded",
        ]
        if operators or bounded:
            problems.append(f"{name}: {sorted(operators) or window} without sortBy")
    return problems


@pytest.mark.parametrize("sql", STATEMENTS)
def test_window_stages_follow_mongodb_rules(sql: str) -> None:
    try:
        plan = compile_statement(sql)
    except QueryLeafError:
        pytest.skip("refused")
    stages = _stages(plan.command)
    assert stages, "no $setWindowFields"
    for stage in stages:
        assert _problems(stage) == []


def test_enough_window_statements_are_checked() -> None:
    assert len(STATEMENTS) >= 20
