"""Fuzz: malformed and odd statements (tests/fuzz_inputs.py: seeded mutations of the project's
own statement corpus, deep nesting, huge literals, odd unicode, raw bytes) through run_sql,
EXPLAIN and the CLI. Every failure must be a QueryLeafError with a catalogued code, never a
raw Python exception, and the CLI never reports an internal error.

A few thousand runs per CI run; `python -m tests.fuzz_inputs` explains how to run more."""

from __future__ import annotations

import datetime as dt
import decimal
import re
import uuid
from pathlib import Path

import pytest

import queryleaf
from queryleaf.errors import QueryLeafError
from queryleaf.shell import cli
from tests.case_files import load_datasets
from tests.fuzz_inputs import KNOWN, inputs

SEED = 20261205
COUNT = 1500
CLI_COUNT = 60
CATALOGUE = Path(__file__).parent.parent / "docs" / "errors.md"


def catalogued_codes() -> set[str]:
    return set(re.findall(r"^\| (QL\d{3}) \|", CATALOGUE.read_text(), re.M))


@pytest.fixture
def shop() -> queryleaf.Connection:
    conn = queryleaf.connect()
    for name, documents in load_datasets()["shop"].items():
        conn.db[name].insert_many([dict(d) for d in documents])
    yield conn
    conn.close()


def reset(conn: queryleaf.Connection) -> None:
    for name, documents in load_datasets()["shop"].items():
        conn.db[name].drop()
        conn.db[name].insert_many([dict(d) for d in documents])


def attempt(conn: queryleaf.Connection, text: str, mode: str) -> str | None:
    """None when the statement ran or failed cleanly, else a description of the failure."""
    try:
        if mode == "run":
            conn.run_sql(text, timeout=0.02)
        else:
            conn.explain(text)
    except QueryLeafError as error:
        if error.code not in catalogued_codes():
            return f"uncatalogued code {error.code}: {error.message[:80]}"
        return None
    except Exception as error:  # what the test looks for
        return f"{type(error).__name__}: {str(error)[:80]}"
    return None


def test_known_crashers_fail_cleanly(shop: queryleaf.Connection) -> None:
    failures = []
    for text in KNOWN:
        for mode in ("run", "explain"):
            problem = attempt(shop, text, mode)
            if problem:
                failures.append((text[:60], mode, problem))
    assert failures == []


def test_fuzzed_statements_fail_cleanly(shop: queryleaf.Connection) -> None:
    failures = []
    tried = 0
    for index, text in enumerate(inputs(SEED, COUNT)):
        if index % 100 == 0:
            reset(shop)
        for mode in ("run", "explain"):
            tried += 1
            problem = attempt(shop, text, mode)
            if problem:
                failures.append((index, mode, text[:80], problem))
    assert tried == 2 * COUNT
    assert failures == [], f"{len(failures)} raw failures out of {tried}"


def test_the_cli_reports_no_internal_error(capsys: pytest.CaptureFixture[str]) -> None:
    internal = []
    for index, text in enumerate(inputs(SEED + 1, CLI_COUNT)):
        if "\x00" in text:
            continue  # an argument cannot hold NUL (the OS refuses it before the CLI runs)
        status = cli.main(["--timeout", "0.02", "-e", text])
        captured = capsys.readouterr()
        if status == cli.EXIT_INTERNAL or "internal error" in captured.err:
            internal.append((index, text[:80], captured.err[-200:]))
    assert internal == []


ODD_PARAMETERS = [
    2**70, -(2**64), float("nan"), float("inf"), "\ud800", "a\x00b", b"\xff", {1: 2},
    {"$where": "x"}, {"a": {"$gt": 1}}, [1, [2, {"$x": 1}]], {1}, object(), complex(1, 2),
    decimal.Decimal("1.5"), decimal.Decimal("1e9999"), dt.date(2024, 1, 1), dt.time(1, 2),
    dt.timedelta(1), uuid.uuid4(), None, True, (1, 2), range(3),
]  # fmt: skip
PARAMETER_STATEMENTS = [
    "SELECT * FROM users WHERE age = ?",
    "SELECT ? AS x",
    "INSERT INTO t (b) VALUES (?)",
    "UPDATE users SET b = ? WHERE _id = 1",
    "DELETE FROM users WHERE age = ?",
    "SELECT * FROM users WHERE age IN (?, 1)",
    "SELECT * FROM users LIMIT ?",
    "SELECT SUBSTRING(name, ?) FROM users",
    "SELECT * FROM users WHERE name LIKE ?",
    "SELECT DATE_ADD(?, INTERVAL 1 DAY)",
    "SELECT * FROM users WHERE name REGEXP ?",
    "SELECT ROUND(age, ?) FROM users",
    "SELECT REPEAT(name, ?) FROM users",
]


def test_odd_parameters_fail_cleanly(shop: queryleaf.Connection) -> None:
    failures = []
    for sql in PARAMETER_STATEMENTS:
        for value in ODD_PARAMETERS:
            for mode in ("run", "explain"):
                try:
                    if mode == "run":
                        shop.run_sql(sql, [value])
                    else:
                        shop.explain(sql, [value])
                except QueryLeafError as error:
                    if error.code not in catalogued_codes():
                        failures.append((sql, repr(value)[:30], error.code))
                except Exception as error:  # what the test looks for
                    failures.append((sql, repr(value)[:30], type(error).__name__))
    assert failures == []
