"""EXPLAIN prints Extended JSON that reads back to exactly the command that runs: for every
statement of the suite's case files, `json_util.loads` of the printed text encodes to the same
BSON bytes as the plan's command, and nothing in it is a shape mongosh's EJSON reads
differently (a string `$regex` beside other operators is read as a bare regex there, and by
pymongo's json_util, dropping the other operators)."""

from __future__ import annotations

import json
from typing import Any

import bson
import pytest
from bson import json_util

from queryleaf.compile import compile_statement
from queryleaf.errors import QueryLeafError
from queryleaf.plan.plans import EXTENDED_JSON
from tests.case_files import load_cases

FOLDERS = ["translate", "results", "aggregate_functions"]
STATEMENTS = [
    (f"{case.source}:{case.name}", case["sql"], case.get("params"))
    for folder in FOLDERS
    for case in load_cases(folder)
    if case.get("sql")
]
# Extended JSON keys a reader turns into a value when they open a document (legacy forms).
TYPE_KEYS = {"$date", "$oid", "$numberLong", "$numberInt", "$numberDouble", "$numberDecimal",
             "$binary", "$regularExpression", "$timestamp", "$minKey", "$maxKey", "$undefined",
             "$symbol", "$code", "$dbPointer", "$uuid"}  # fmt: skip


def _ambiguous(value: Any, where: str = "") -> list[str]:
    """Documents an Extended JSON reader would take for a typed value, losing keys."""
    found: list[str] = []
    if isinstance(value, dict):
        keys = set(value)
        if isinstance(value.get("$regex"), str) and keys - {"$regex", "$options"}:
            found.append(f"{where}: a string $regex beside {sorted(keys - {'$regex', '$options'})}")
        if keys & TYPE_KEYS and len(keys) > 1 and "$regex" not in keys:
            found.append(f"{where}: {sorted(keys)}")
        for key, item in value.items():
            found += _ambiguous(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _ambiguous(item, f"{where}[{index}]")
    return found


def _plan(sql: str, params: Any) -> Any:
    try:
        plan = compile_statement(sql, "mysql", params)
    except QueryLeafError:
        return None  # cases that expect an error
    plan = getattr(plan, "inner", plan)
    return plan if hasattr(plan, "command") and hasattr(plan, "to_json") else None


@pytest.mark.parametrize(("name", "sql", "params"), STATEMENTS, ids=[s[0] for s in STATEMENTS])
def test_explain_reads_back_to_the_command_that_runs(name: str, sql: str, params: Any) -> None:
    plan = _plan(sql, params)
    if plan is None:
        pytest.skip("no command: the statement is refused")
    printed = plan.to_json()
    loaded = json_util.loads(printed, json_options=EXTENDED_JSON)
    assert bson.encode(loaded) == bson.encode(plan.command)
    assert _ambiguous(json.loads(printed)) == []


def test_enough_statements_are_checked() -> None:
    planned = [s for s in STATEMENTS if _plan(s[1], s[2]) is not None]
    assert len(planned) >= 100


def test_like_and_not_equal_keep_both_conditions() -> None:
    plan = compile_statement("SELECT b FROM t WHERE b LIKE 'a%' AND b <> 'ab'")
    loaded = json_util.loads(plan.to_json(), json_options=EXTENDED_JSON)
    condition = loaded["filter"]["b"]
    assert condition["$ne"] == "ab"
    assert condition["$regex"].pattern == "^a"
    assert bson.encode(loaded) == bson.encode(plan.command)
