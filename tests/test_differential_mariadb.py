"""Differential test of the function library against a real MySQL-compatible server.

A private MariaDB (tests/mariadb_server.py) and queryleaf get the same rows (tests/mariadb_cases.py:
NULLs, missing fields, unicode, month ends, leap days, negative and huge numbers, decimals,
documents); seeded generated expressions over the documented library (strings, numbers, dates
and intervals, conditionals, CAST/CONVERT, aggregates with GROUP BY, GROUP_CONCAT, JSON) run on
both, and every row's value is compared. Numbers compare by value (an int equals the same
DECIMAL), doubles with a relative tolerance of 1e-9; the reference's JSON text is parsed.

queryleaf's dialect is MySQL 8's. Where MariaDB 10.11 answers differently from MySQL 8, the
case says so in MYSQL8 below and MySQL 8's answer wins. Every deliberate deviation of queryleaf
from MySQL is one line of docs/sql.md ("Deviations from MySQL") and one entry of DEVIATIONS,
which cites that line; no other case may differ.

Under CI (CI=true) a missing mariadbd fails the test; elsewhere the test is skipped.
QUERYLEAF_MARIADB_SEED and QUERYLEAF_MARIADB_CASES change the seed and the number of cases.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from bson import Decimal128

import queryleaf
from tests import mariadb_cases, mariadb_server
from tests.mariadb_cases import Case

SEED = int(os.environ.get("QUERYLEAF_MARIADB_SEED", "13"))
CASES = int(os.environ.get("QUERYLEAF_MARIADB_CASES", "3000"))
BATCH = 20
AGREEMENT = 0.99
DOCS = Path(__file__).resolve().parent.parent / "docs" / "sql.md"

try:
    import pymysql
except ImportError:  # the dev extra is not installed: skipped here, a failure under CI
    pymysql = None


# -- deliberate deviations: each cites its line in docs/sql.md -------------------------------


@dataclass(frozen=True)
class Deviation:
    docs: str  # the start of a line of docs/sql.md, section "Deviations from MySQL"
    applies: Callable[[Case], bool]


_DATE = re.compile(r"\bd\b|TIMESTAMP '|DATE '")
_DOUBLE = re.compile(r"\bx\b|\d(\.\d+)?e-?\d")
_TEXT_RESULTS = {"concat", "concat_num", "concat_ws", "cast_char", "convert_char",
                 "concat_double", "coalesce_mixed", "group_concat_distinct"}  # fmt: skip


def _with(pattern: re.Pattern[str], *names: str) -> Callable[[Case], bool]:
    return lambda case: case.name in names and pattern.search(case.sql) is not None


_DOUBLE_DECIMAL_COMPARISONS = {"equal_numbers", "compare", "nullif", "between", "in_list",
                               "multiply_gt", "multiply_ge", "multiply_lt", "multiply_le",
                               "multiply_ne", "multiply_eq", "abs_compare", "not_multiply_gt",
                               "products_compare", "sum_condition", "sum_connective"}  # fmt: skip

DEVIATIONS: dict[str, Deviation] = {
    "text in arithmetic": Deviation(
        "- Text in arithmetic", lambda case: case.name == "string_to_number"
    ),
    "one type per conditional": Deviation(
        "- COALESCE, IFNULL, IF and CASE", lambda case: case.name == "coalesce_mixed"
    ),
    "dates as numbers": Deviation(
        "- A date cast to a number",
        _with(_DATE, "cast_signed", "cast_decimal", "cast_decimal0", "cast_double"),
    ),
    "dates in JSON": Deviation(
        "- A date inside a JSON value", _with(_DATE, "json_array", "json_arrayagg")
    ),
    "DATE is a date and time": Deviation(
        "- A DATE is a BSON date", _with(re.compile(r"DATE '"), *_TEXT_RESULTS)
    ),
    "literals with a point are doubles": Deviation(
        "- A number written with a decimal point",
        _with(re.compile(r"(?<![\w.])-?\d+\.\d*0\b(?!e)"), *_TEXT_RESULTS),
    ),
    "TRUNCATE of a double": Deviation("- TRUNCATE of a double", _with(_DOUBLE, "truncate")),
    "exact literals with a point divided": Deviation(
        "- A number written with a decimal point",
        _with(re.compile(r"(?<![\w.])-?\d+\.\d+\b(?!e)"), "divide", "modulo", "mod", "div"),
    ),
    "DECIMAL and DOUBLE together": Deviation(
        "- Arithmetic between a DECIMAL and a DOUBLE",
        lambda case: (
            case.name in ("modulo", "mod", "concat_double", "cast_char", "convert_char")
            and re.search(r"\bm\b", case.sql) is not None
            and _DOUBLE.search(case.sql) is not None
        ),
    ),
    "DECIMAL compared with DOUBLE": Deviation(
        "- A DOUBLE compared with a DECIMAL",
        lambda case: (
            case.name in _DOUBLE_DECIMAL_COMPARISONS
            and re.search(r"\bm\b", case.sql) is not None
            and _DOUBLE.search(case.sql) is not None
        ),
    ),
}

# Where MariaDB 10.11 differs from MySQL 8 (MySQL 8 wins): cases whose reference answer is
# MariaDB's own and is not compared.
MYSQL8: dict[str, Callable[[Case], bool]] = {
    # MariaDB has no `last` in JSON paths (MySQL 8: `$.b[last]` is the last element).
    "JSON path [last]": lambda case: "[last]" in case.sql,
    # MariaDB finds '' past the end of a multibyte string at a byte position (LOCATE('', s, 10)
    # on a 7-character s); MySQL 8 counts characters, as queryleaf does.
    "LOCATE of '' past the end": lambda case: case.name == "locate3" and "''" in case.sql,
}

# Value by value: a difference that is exactly a documented deviation (or MariaDB's own
# answer) counts the case as excluded, not as agreeing.
_LONG_NUMBER = re.compile(r"-?\d+\.\d{15,}")


def _fifteen_digits(text: str) -> str:
    return _LONG_NUMBER.sub(lambda m: format(float(m.group(0)), ".15g"), text)


def _explained(case: Case, ours: Any, reference: Any) -> str | None:
    # docs: "A double prints with at most 15 significant digits"
    if isinstance(ours, str) and isinstance(reference, str) and _fifteen_digits(reference) == ours:
        return "doubles print 15 digits"
    # docs: "AVG of exact values keeps their full precision"
    if (
        case.name in ("avg", "avg_expr")
        and isinstance(reference, Decimal)
        and isinstance(ours, int | float | Decimal)
    ):
        quantum = Decimal(1).scaleb(reference.as_tuple().exponent)  # type: ignore[arg-type]
        if Decimal(str(ours)).quantize(quantum, ROUND_HALF_UP) == reference:
            return "AVG keeps full precision"
    # MariaDB lists the matches of several paths in document order, MySQL 8 in path order.
    if case.name == "json_extract2" and isinstance(ours, list) and isinstance(reference, list):
        left = list(reference)
        for value in ours:
            match = next((i for i, other in enumerate(left) if same(value, other)), None)
            if match is None:
                return None
            left.pop(match)
        return "MariaDB: JSON_EXTRACT order" if not left else None
    return None


# Differences in the form of a value, not in the value: `same` and `_reference` put both sides
# in one form (booleans as 1/0, the reference's JSON text parsed, keys compared as a set, DATE
# as a date at midnight). Each is a line of docs/sql.md too.
NORMALISED = {
    "booleans": "- Comparisons give `true`/`false`",
    "JSON values": "- JSON functions give documents and arrays",
    "key order": "- A document keeps its keys in the order written",
    "DATE": "- DATE values are BSON dates",
}

VALUE_DEVIATIONS = {
    "doubles print 15 digits": "- A double prints with at most 15",
    "AVG keeps full precision": "- AVG of exact values keeps their full precision",
}


def _excluded(case: Case) -> str | None:
    for name, deviation in DEVIATIONS.items():
        if deviation.applies(case):
            return name
    for name, applies in MYSQL8.items():
        if applies(case):
            return name
    return None


# -- the servers ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mariadb() -> Iterator[Any]:
    if pymysql is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PyMySQL is missing: install the dev extra (pip install -e '.[dev]')")
        pytest.skip("PyMySQL is not installed")
    try:
        server = mariadb_server.start()
    except mariadb_server.MariaDBMissing as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the MariaDB reference is missing: {error}")
        pytest.skip(str(error))
    try:
        connection = pymysql.connect(
            unix_socket=str(server.socket), user="root", charset="utf8mb4", autocommit=True
        )
        with connection.cursor() as cursor:
            cursor.execute("SET NAMES utf8mb4 COLLATE utf8mb4_nopad_bin")
            cursor.execute("CREATE DATABASE diff")
            cursor.execute("USE diff")
            columns = ", ".join(f"{n} {t}" for n, t in mariadb_cases.COLUMNS.items())
            cursor.execute(f"CREATE TABLE t ({columns})")
            marks = ", ".join(["%s"] * len(mariadb_cases.COLUMNS))
            cursor.executemany(
                f"INSERT INTO t VALUES ({marks})",
                [
                    [mariadb_cases.mariadb_value(n, v) for n, v in row.items()]
                    for row in mariadb_cases.rows()
                ],
            )
        yield connection
        connection.close()
    finally:
        server.stop()


@pytest.fixture
def loaded(conn: queryleaf.Connection) -> queryleaf.Connection:
    conn.db.t.insert_many([mariadb_cases.document(row) for row in mariadb_cases.rows()])
    return conn


# -- values -----------------------------------------------------------------------------------


def _reference(value: Any, as_json: bool) -> Any:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if as_json and isinstance(value, str):
        return json.loads(value, parse_float=Decimal)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day)
    return value


def _ours(value: Any) -> Any:
    if isinstance(value, Decimal128):
        return value.to_decimal()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dict):
        return {k: _ours(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ours(v) for v in value]
    return value


def same(ours: Any, reference: Any) -> bool:
    if isinstance(reference, bool):
        reference = int(reference)
    numbers = int | float | Decimal
    if isinstance(ours, numbers) and isinstance(reference, numbers):
        if isinstance(ours, int | Decimal) and isinstance(reference, int | Decimal):
            return Decimal(ours) == Decimal(reference)
        a, b = float(ours), float(reference)
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(ours, dict) and isinstance(reference, dict):
        # MySQL keeps a JSON object's keys sorted; the document keeps them as written.
        return set(ours) == set(reference) and all(same(ours[k], reference[k]) for k in ours)
    if isinstance(ours, list) and isinstance(reference, list):
        return len(ours) == len(reference) and all(
            same(a, b) for a, b in zip(ours, reference, strict=True)
        )
    return type(ours) is type(reference) and ours == reference


# -- running ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    agreed: int = 0
    differed: list[str] = field(default_factory=list)
    excluded: dict[str, int] = field(default_factory=dict)
    refused_by_reference: int = 0


def _queries(cases: list[Case], for_reference: bool) -> str:
    keys = "g" if cases[0].aggregate else "id"
    select = ", ".join(
        f"{case.mariadb if for_reference else case.sql} AS c{i}" for i, case in enumerate(cases)
    )
    tail = " GROUP BY g ORDER BY g" if cases[0].aggregate else " ORDER BY id"
    return f"SELECT {keys}, {select} FROM t{tail}"


def _run_reference(connection: Any, cases: list[Case]) -> list[list[Any]] | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute(_queries(cases, for_reference=True))
            rows = cursor.fetchall()
    except pymysql.MySQLError:
        return None
    return [[_reference(row[i + 1], case.json) for row in rows] for i, case in enumerate(cases)]


def _run_ours(conn: queryleaf.Connection, cases: list[Case]) -> list[list[Any]] | str:
    try:
        result = conn.run_sql(_queries(cases, for_reference=False))
    except queryleaf.QueryLeafError as error:
        return str(error).splitlines()[0]
    except Exception as error:  # an engine failure is a difference too, reported as such
        return f"{type(error).__name__}: {error}"
    return [[_ours(row[f"c{i}"]) for row in result.rows] for i in range(len(cases))]


def _compare(conn: queryleaf.Connection, connection: Any, cases: list[Case], out: Outcome) -> None:
    """Run `cases` together on both sides; when either side fails, one by one."""
    reference = _run_reference(connection, cases)
    ours = _run_ours(conn, cases) if reference is not None else None
    if (reference is None or isinstance(ours, str)) and len(cases) > 1:
        for case in cases:
            _compare(conn, connection, [case], out)
        return
    case = cases[0]
    if reference is None:
        out.refused_by_reference += 1
        return
    if isinstance(ours, str):
        out.differed.append(f"{case.name}: {case.sql}\n    queryleaf: {ours}")
        return
    assert ours is not None
    for case, got, expected in zip(cases, ours, reference, strict=True):
        reasons = {
            _explained(case, a, b) if not same(a, b) else ""
            for a, b in zip(got, expected, strict=False)
        } - {""}
        if len(got) == len(expected) and not reasons:
            out.agreed += 1
        elif len(got) == len(expected) and None not in reasons:
            for reason in reasons:
                out.excluded[reason] = out.excluded.get(reason, 0) + 1
        else:
            pairs = [
                f"{a!r} != {b!r}" for a, b in zip(got, expected, strict=False) if not same(a, b)
            ]
            out.differed.append(
                f"{case.name}: {case.sql}\n    queryleaf vs MySQL: {'; '.join(pairs[:4])}"
            )


def _cases_of(family: str) -> list[Case]:
    names = set(mariadb_cases.TEMPLATES[family])
    return [c for c in mariadb_cases.generate(SEED, CASES) if c.name in names]


@pytest.mark.parametrize("family", list(mariadb_cases.TEMPLATES))
def test_function_library_matches_mysql(
    family: str, loaded: queryleaf.Connection, mariadb: Any
) -> None:
    out = Outcome()
    compared: list[Case] = []
    for case in _cases_of(family):
        reason = _excluded(case)
        if reason is not None:
            out.excluded[reason] = out.excluded.get(reason, 0) + 1
        else:
            compared.append(case)
    for start in range(0, len(compared), BATCH):
        _compare(loaded, mariadb, compared[start : start + BATCH], out)
    total = out.agreed + len(out.differed)
    print(
        f"\n{family}: {out.agreed}/{total} agree"
        f" ({out.agreed / max(total, 1):.2%}); excluded {out.excluded};"
        f" refused by the reference: {out.refused_by_reference}"
    )
    for line in out.differed:
        print("  " + line)
    assert total > 0
    assert out.agreed / total >= AGREEMENT, "\n".join(out.differed[:30])


def test_each_deviation_cites_a_line_of_the_docs() -> None:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## Deviations from MySQL", 1)
    cited = {name: d.docs for name, d in DEVIATIONS.items()} | VALUE_DEVIATIONS | NORMALISED
    for name, line in cited.items():
        assert len(section) == 2 and "\n" + line in section[1], name
    listed = (
        re.findall(r"^- ", section[1].split("\n## ", 1)[0], flags=re.M) if len(section) == 2 else []
    )
    assert len(listed) >= len(set(cited.values()))


def test_generation_is_seeded_and_covers_every_template() -> None:
    first = mariadb_cases.generate(SEED, CASES)
    assert first == mariadb_cases.generate(SEED, CASES)
    assert len(first) >= 1000
    names = {name for items in mariadb_cases.TEMPLATES.values() for name in items}
    assert {case.name for case in first} == names


# -- scalar subqueries: one row, none, or MySQL's error 1242 ----------------------------------

SCALAR_SUBQUERIES = [  # (statement, whether a subquery finds several rows: error 1242)
    ("SELECT id FROM t WHERE g = (SELECT g FROM t WHERE id = 1) ORDER BY id", False),
    ("SELECT id FROM t WHERE g = (SELECT g FROM t WHERE id > 5) ORDER BY id", True),
    ("SELECT id FROM t WHERE g = (SELECT g FROM t WHERE id > 100) ORDER BY id", False),
    ("SELECT id FROM t WHERE n < (SELECT MAX(n) FROM t WHERE g = 2) ORDER BY id", False),
    ("SELECT id FROM t WHERE g = (SELECT g FROM t ORDER BY id DESC LIMIT 1) ORDER BY id", False),
    ("SELECT id, (SELECT n FROM t i WHERE i.id = o.id + 1) AS c FROM t o ORDER BY id", False),
    ("SELECT id, (SELECT n FROM t i WHERE i.g = o.g) AS c FROM t o ORDER BY id", True),
    ("SELECT id, (SELECT n FROM t i WHERE i.g = o.g) AS c FROM t o WHERE o.g IS NULL ORDER BY id", False),
    ("SELECT id, (SELECT MAX(n) FROM t i WHERE i.g = o.g) AS c FROM t o ORDER BY id", False),
    ("SELECT id, (SELECT id FROM t WHERE g = 3 ORDER BY id LIMIT 1) AS c FROM t ORDER BY id", False),
    ("SELECT id, (SELECT id FROM t WHERE g = 3) AS c FROM t ORDER BY id", True),
    ("SELECT id FROM t o WHERE o.n = (SELECT i.n FROM t i WHERE i.g = o.g AND i.id <> o.id) ORDER BY id", True),
    ("SELECT id FROM t o WHERE o.x = (SELECT i.x FROM t i WHERE i.id = o.id) ORDER BY id", False),
    ("SELECT g, COUNT(*) AS c FROM t GROUP BY g HAVING COUNT(*) > (SELECT n FROM t WHERE id < 3) ORDER BY g", True),
    ("SELECT g, COUNT(*) AS c FROM t GROUP BY g HAVING COUNT(*) > (SELECT n FROM t WHERE id = 1) ORDER BY g", False),
]  # fmt: skip


@pytest.mark.parametrize(("sql", "several"), SCALAR_SUBQUERIES)
def test_scalar_subqueries_match_mysql(
    sql: str, several: bool, loaded: queryleaf.Connection, mariadb: Any
) -> None:
    """A scalar subquery with several rows is MySQL's error 1242 on MariaDB and QL502 here;
    one row or none gives the same rows on both."""
    try:
        with mariadb.cursor() as cursor:
            cursor.execute(sql)
            expected: Any = [list(row) for row in cursor.fetchall()]
    except pymysql.MySQLError as error:
        assert error.args[0] == 1242, error  # the statements are valid MySQL otherwise
        expected = "1242"
    assert (expected == "1242") == several, "the case's expectation is MariaDB's"
    try:
        got: Any = [[_ours(v) for v in row.values()] for row in loaded.run_sql(sql).rows]
    except queryleaf.QueryLeafError as error:
        got = "1242" if error.code == "QL502" else str(error)
    if isinstance(expected, str) or isinstance(got, str):
        assert got == expected, sql
        return
    assert len(got) == len(expected), (got, expected)
    for ours, reference in zip(got, expected, strict=True):
        assert all(same(a, _reference(b, False)) for a, b in zip(ours, reference, strict=True)), (
            ours,
            reference,
        )


# -- select-list aliases inside ORDER BY expressions -----------------------------------------

ORDER_ALIASES = [
    "SELECT id AS k FROM t ORDER BY k * -1",
    "SELECT n * -1 AS n, id FROM t ORDER BY n + 0, id",  # a column the select list reads wins
    "SELECT id, g AS grp FROM t ORDER BY grp * -1, id",
    "SELECT id, n AS v FROM t WHERE n IS NOT NULL ORDER BY ABS(v) DESC, id",
    "SELECT g, COUNT(*) AS c FROM t GROUP BY g ORDER BY g * -1",
]


@pytest.mark.parametrize("sql", ORDER_ALIASES)
def test_aliases_in_order_by_expressions_sort_as_mysql(
    sql: str, loaded: queryleaf.Connection, mariadb: Any
) -> None:
    with mariadb.cursor() as cursor:
        cursor.execute(sql)
        expected = [list(row) for row in cursor.fetchall()]
    got = [[_ours(v) for v in row.values()] for row in loaded.run_sql(sql).rows]
    assert len(got) == len(expected), (got, expected)
    for ours, reference in zip(got, expected, strict=True):
        assert all(same(a, _reference(b, False)) for a, b in zip(ours, reference, strict=True)), (
            got,
            expected,
        )
