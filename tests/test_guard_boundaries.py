"""Boundary values for the guards the planner leaves out (queryleaf/plan/value_kinds.py and
SUM's empty-group test in queryleaf/plan/aggregates.py).

A computed number compared with a number constant is no longer type-tested (`x * y > 5000`
is the plain `$gt`), and SUM tells a group without numbers by an `$avg` of the same value.
Here every such comparison runs over NULL, missing fields, NaN, infinities, decimals, -0,
huge integers and literals with a decimal form, in WHERE and under NOT, and its rows are
checked against SQL's answer worked out in Python from the expression's own values (read
through the select list, which these changes do not touch). Operands MongoDB refuses to
multiply (strings, booleans, dates, arrays, documents) stay an error. Runs on the embedded
engine and, with QUERYLEAF_TEST_URI, on a real server (and in the suite's second pass).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from decimal import Decimal
from typing import Any

import pytest
from bson import Decimal128, Int64

import queryleaf
from queryleaf.compile import compile_statement

MISSING = object()

A_VALUES: list[Any] = [
    None, MISSING, 0, -0.0, 1, -1, 2.5, 19.99, 4999.999, 5000, 5000.5, 2**31, Int64(2**62),
    1e308, float("nan"), float("inf"), float("-inf"), Decimal128("2.5"), Decimal128("-0"),
    Decimal128("19.99"), Decimal128("5000"), Decimal128("NaN"), Decimal128("-1E+30"),
]  # fmt: skip
B_VALUES: list[Any] = [2, None, MISSING, 0, 0.5, Decimal128("0.1"), -3]

EXPRESSIONS = [
    "a * b", "a * 2", "a / b", "ABS(a)", "a * 2 + 1", "-a", "a DIV 2", "ROUND(a)",
    "a * b - 1", "CASE WHEN b > 0 THEN a * b ELSE a / 2 END",
]  # fmt: skip
CONSTANTS = ["5000", "0", "-1", "2.5", "19.99", "-0.0", "4611686018427387904", "1e308"]
OPERATORS = ["=", "<>", "!=", "<", "<=", ">", ">="]


def _rows() -> list[dict[str, Any]]:
    rows = []
    for i, (a, b) in enumerate(itertools.product(A_VALUES, B_VALUES)):
        row: dict[str, Any] = {"_id": i}
        if a is not MISSING:
            row["a"] = a
        if b is not MISSING:
            row["b"] = b
        rows.append(row)
    return rows


def _number(value: Any) -> Decimal | None:
    """A value as an exact Decimal (NaN included); None for NULL and non-numbers."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal128):
        return value.to_decimal()
    if isinstance(value, int | float):
        return Decimal(value)
    return None


def _sql_compare(value: Any, op: str, literal: str) -> bool | None:
    """SQL's truth of `value op literal` with MongoDB's order of numbers (NaN equals NaN and
    sorts below every other number); None where SQL gives NULL."""
    number = _number(value)
    if number is None:
        return None
    bound = Decimal(literal)
    if "e" in literal or (isinstance(value, float) and "." in literal):
        # A literal with an exponent is a double; a double meets a decimal literal as a
        # double (docs/sql.md); decimals and integers meet it exactly.
        bound = Decimal(float(literal))
    if number.is_nan():
        order = 0 if bound.is_nan() else -1
    else:
        order = (number > bound) - (number < bound)
    return {
        "=": order == 0,
        "<>": order != 0,
        "!=": order != 0,
        "<": order < 0,
        "<=": order <= 0,
        ">": order > 0,
        ">=": order >= 0,
    }[op]


@pytest.fixture
def loaded(conn: queryleaf.Connection) -> queryleaf.Connection:
    conn.db.t.insert_many(_rows())
    return conn


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_computed_number_against_a_number(loaded: queryleaf.Connection, expression: str) -> None:
    values = {
        row["_id"]: row["v"] for row in loaded.run_sql(f"SELECT _id, {expression} AS v FROM t").rows
    }
    assert len(values) == len(A_VALUES) * len(B_VALUES)
    for literal, op in itertools.product(CONSTANTS, OPERATORS):
        condition = f"{expression} {op} {literal}"
        truth = {i: _sql_compare(v, op, literal) for i, v in values.items()}
        kept = {r["_id"] for r in loaded.run_sql(f"SELECT _id FROM t WHERE {condition}").rows}
        assert kept == {i for i, t in truth.items() if t is True}, condition
        negated = {
            r["_id"] for r in loaded.run_sql(f"SELECT _id FROM t WHERE NOT ({condition})").rows
        }
        assert negated == {i for i, t in truth.items() if t is False}, f"NOT ({condition})"


def test_the_plain_comparison_is_what_the_plan_says() -> None:
    """The guard is gone where it cannot change the answer, and kept where it can."""
    plan = compile_statement("SELECT _id FROM t WHERE a * b > 5000").command
    assert plan["filter"] == {"$expr": {"$gt": [{"$multiply": ["$a", "$b"]}, 5000]}}
    below = compile_statement("SELECT _id FROM t WHERE a * b < 5000").command
    assert below["filter"]["$expr"]["$let"]["in"]["$and"][0] == {"$gt": ["$$cmp", None]}
    # A field, or $add (a date plus a number is a date), keeps the type test.
    for sql in ("SELECT _id FROM t WHERE a + b > 5000", "SELECT _id FROM t WHERE b > a * 2"):
        assert "$isNumber" in str(compile_statement(sql).command), sql


@pytest.mark.parametrize(
    "value", ["abc", "5", True, dt.datetime(2024, 1, 31), [1, 2], {"x": 1}], ids=repr
)
def test_operands_mongodb_refuses_stay_an_error(conn: queryleaf.Connection, value: Any) -> None:
    conn.db.t.insert_many([{"_id": 1, "a": 3}, {"_id": 2, "a": value}])
    for sql in ("SELECT _id FROM t WHERE a * 2 > 5", "SELECT _id FROM t WHERE a * 2 < 5"):
        with pytest.raises(queryleaf.QueryLeafError) as raised:
            conn.run_sql(sql)
        assert "$multiply" in str(raised.value), sql


# -- SUM over groups without numbers ----------------------------------------------------------

GROUPS: dict[str, list[Any]] = {
    "nulls": [None, None],
    "missing": [MISSING],
    "strings": ["5", "abc"],
    "booleans": [True, False],
    "dates": [dt.datetime(2024, 2, 29)],
    "arrays": [[1, 2], []],
    "documents": [{"x": 1}],
    "zero": [1, -1],
    "negative zero": [-0.0, None],
    "nan": [float("nan"), None],
    "decimal": [Decimal128("2.5"), "x"],
    "mixed": [1, "abc", None, 2.5, MISSING],
    "huge": [Int64(2**62), 1],
}
SUMS: dict[str, Any] = {
    "nulls": None,
    "missing": None,
    "strings": None,
    "booleans": None,
    "dates": None,
    "arrays": None,
    "documents": None,
    "zero": 0,
    "negative zero": 0,
    "nan": float("nan"),
    "decimal": Decimal("2.5"),
    "mixed": 3.5,
    "huge": 2**62 + 1,
}


@pytest.fixture
def grouped(conn: queryleaf.Connection) -> queryleaf.Connection:
    documents = []
    for group, values in GROUPS.items():
        for value in values:
            document = {"i": len(documents), "g": group}
            if value is not MISSING:
                document["v"] = value
            documents.append(document)
    conn.db.s.insert_many(documents)
    return conn


def _same_sum(got: Any, expected: Any) -> bool:
    if expected is None or got is None:
        return got is expected
    number = _number(got)
    if number is None:
        return False
    if isinstance(expected, float) and math.isnan(expected):
        return number.is_nan()
    return number == Decimal(expected)


def test_sum_is_null_exactly_where_no_value_is_a_number(grouped: queryleaf.Connection) -> None:
    rows = grouped.run_sql("SELECT g, SUM(v) AS s, COUNT(*) AS n FROM s GROUP BY g").rows
    assert {r["g"] for r in rows} == set(GROUPS)
    for row in rows:
        assert _same_sum(row["s"], SUMS[row["g"]]), row
        assert row["n"] == len(GROUPS[row["g"]]), row


def test_sum_and_avg_of_one_value_share_the_test(grouped: queryleaf.Connection) -> None:
    sql = "SELECT g, SUM(v) AS s, AVG(v) AS a FROM s GROUP BY g HAVING SUM(v) > 0"
    group = compile_statement(sql).command["pipeline"][0]["$group"]
    assert sorted(str(spec) for name, spec in group.items() if name != "_id") == [
        "{'$avg': '$v'}",
        "{'$sum': '$v'}",
    ]
    rows = grouped.run_sql(sql).rows
    assert {r["g"] for r in rows} == {"decimal", "mixed", "huge"}
    for row in rows:
        assert _same_sum(row["s"], SUMS[row["g"]]), row
        assert row["a"] is not None, row


def test_sum_without_rows_is_null(grouped: queryleaf.Connection) -> None:
    assert grouped.run_sql("SELECT SUM(v) AS s, COUNT(*) AS n FROM s WHERE g = 'none'").rows == [
        {"s": None, "n": 0}
    ]
    assert grouped.run_sql("SELECT SUM(v) AS s FROM s WHERE g = 'strings'").rows == [{"s": None}]


def test_window_sum_is_null_where_the_frame_holds_no_number(grouped: queryleaf.Connection) -> None:
    whole = grouped.run_sql("SELECT g, SUM(v) OVER (PARTITION BY g) AS s FROM s").rows
    assert len(whole) == sum(len(values) for values in GROUPS.values())
    for row in whole:
        assert _same_sum(row["s"], SUMS[row["g"]]), row
    running = grouped.run_sql(
        "SELECT g, i, SUM(v) OVER (PARTITION BY g ORDER BY i) AS s FROM s ORDER BY i"
    ).rows
    position = 0
    for group, values in GROUPS.items():
        numbers: list[Any] = []
        for value in values:
            row = running[position]
            position += 1
            assert (row["g"], row["i"]) == (group, position - 1)
            if _number(value) is not None and not isinstance(value, bool):
                numbers.append(value)
            expected = _running_sum(numbers)
            assert _same_sum(row["s"], expected), (row, expected)


def _running_sum(numbers: list[Any]) -> Any:
    if not numbers:
        return None
    exact = [_number(n) for n in numbers]
    if any(e is not None and e.is_nan() for e in exact):
        return float("nan")
    return sum(e for e in exact if e is not None)


def test_having_compares_counts_sums_and_averages(grouped: queryleaf.Connection) -> None:
    """$count, $sum and $avg hold a number or null: HAVING compares them without a type test,
    with SQL's answer (a SUM of no numbers is NULL and passes neither a test nor its NOT)."""
    values = {
        row["g"]: row
        for row in grouped.run_sql(
            "SELECT g, SUM(v) AS s, AVG(v) AS a, COUNT(*) AS n FROM s GROUP BY g"
        ).rows
    }
    assert "$isNumber" not in str(
        compile_statement("SELECT g FROM s GROUP BY g HAVING COUNT(*) > 1").command
    )
    for (name, call), op, literal in itertools.product(
        [("s", "SUM(v)"), ("a", "AVG(v)"), ("n", "COUNT(*)")], OPERATORS, ["0", "1", "2.5", "-1"]
    ):
        condition = f"{call} {op} {literal}"
        truth = {g: _sql_compare(row[name], op, literal) for g, row in values.items()}
        for sql, wanted in (
            (f"SELECT g FROM s GROUP BY g HAVING {condition}", True),
            (f"SELECT g FROM s GROUP BY g HAVING NOT ({condition})", False),
        ):
            kept = {row["g"] for row in grouped.run_sql(sql).rows}
            assert kept == {g for g, t in truth.items() if t is wanted}, sql
