"""Plans grow linearly with the statement: operands repeated by NULL guards, type brackets
and three-valued logic are bound once ($let), so nesting a construct twelve deep gives a
command a small multiple of the statement's length (it was exponential: 76 MB for seven
`a = a`). Measured on EXPLAIN's Extended JSON, compact."""

from __future__ import annotations

import json

import pytest

import queryleaf
from queryleaf.compile import compile_statement

DEPTH = 12
# Bytes of compact command per character of statement, over every family at depth 12. Most
# families stay under 100; a value turned into text (CONCAT, UPPER, LOWER) carries MySQL's
# number and case formatting, about 3 KB per call, hence the ceiling.
FACTOR = 400


def nest(opening: str, inner: str, closing: str, depth: int) -> str:
    return opening * depth + inner + closing * depth


FAMILIES = {
    "equality chain": lambda d: "SELECT " + " = ".join(["a"] * d) + " AS x FROM t",
    "comparison chain": lambda d: "SELECT " + " < ".join(["a"] * d) + " AS x FROM t",
    "LENGTH": lambda d: "SELECT " + nest("LENGTH(", "name", ")", d) + " FROM t",
    "UPPER/LOWER": lambda d: "SELECT " + nest("UPPER(LOWER(", "name", "))", d // 2) + " FROM t",
    "CONCAT": lambda d: "SELECT " + nest("CONCAT(", "name", ", 'x')", d) + " FROM t",
    "SUBSTRING": lambda d: "SELECT " + nest("SUBSTRING(", "name", ", 2)", d) + " FROM t",
    "COALESCE": lambda d: "SELECT " + nest("COALESCE(", "name", ", 'x')", d) + " FROM t",
    "IF": lambda d: "SELECT " + nest("IF(a > 1, ", "a", ", 2)", d) + " FROM t",
    "ROUND": lambda d: "SELECT " + nest("ROUND(", "a", ", 1)", d) + " FROM t",
    "ABS and arithmetic": lambda d: "SELECT " + nest("ABS(1 + ", "a", ")", d) + " FROM t",
    "REPEAT": lambda d: "SELECT " + nest("REPEAT(", "name", ", 2)", d) + " FROM t",
    "LPAD": lambda d: "SELECT " + nest("LPAD(", "name", ", 3, 'x')", d) + " FROM t",
    "DATE_FORMAT of DATE_ADD": lambda d: (
        "SELECT " + nest("DATE_ADD(", "created", ", INTERVAL 1 DAY)", d) + " FROM t"
    ),
    "WHERE comparisons": lambda d: "SELECT * FROM t WHERE " + nest("(", "a", " = a)", d) + " = a",
    "NOT and IS NULL": lambda d: "SELECT " + nest("(", "a", " IS NULL) = a", d) + " FROM t",
}


def compiled_size(sql: str) -> int:
    plan = compile_statement(sql)
    return len(json.dumps(plan.command, default=str, separators=(",", ":")))


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_nested_statements_compile_to_linear_plans(family: str) -> None:
    sql = FAMILIES[family](DEPTH)
    size = compiled_size(sql)
    assert size <= FACTOR * len(sql), f"{family}: {size} bytes for {len(sql)} characters"
    # Linear growth: doubling the depth at most about doubles the command.
    shallow = compiled_size(FAMILIES[family](DEPTH // 2))
    deep = compiled_size(FAMILIES[family](2 * DEPTH))
    assert size <= 2.5 * shallow + 2000, f"{family}: {shallow} -> {size} bytes"
    assert deep <= 2.5 * size + 2000, f"{family}: {size} -> {deep} bytes"


def test_bound_operands_keep_their_meaning() -> None:
    """Binding operands once keeps the meaning: `(a = a) = b` compares the boolean a = a
    with b (NULL when either is NULL), and one more level compares that with b again.
    The same statements give the same rows before and after operands were bound."""
    with queryleaf.connect() as conn:
        conn.run_sql(
            "INSERT INTO t (_id, a, b) VALUES (1, 1, TRUE), (2, 0, FALSE), (3, 2, NULL), "
            "(4, NULL, TRUE)"
        )
        once = conn.run_sql("SELECT _id, (a = a) = b AS x FROM t ORDER BY _id").rows
        twice = conn.run_sql("SELECT _id, ((a = a) = b) = b AS x FROM t ORDER BY _id").rows
        lengths = conn.run_sql(
            "SELECT _id, LENGTH(LENGTH(CONCAT(a, 'xy'))) AS x FROM t ORDER BY _id"
        ).rows
    assert [row["x"] for row in once] == [True, False, None, None]
    assert [row["x"] for row in twice] == [True, True, None, None]  # (FALSE = FALSE)
    assert [row["x"] for row in lengths] == [1, 1, 1, None]


def test_limits_refuse_deep_and_long_statements_before_parsing() -> None:
    from queryleaf.parse.limits import LIMITS

    deep = "SELECT " + "(" * 10_000 + "1" + ")" * 10_000  # crashed the compiled parser
    derived = "SELECT * FROM " + "(SELECT * FROM " * 10_000 + "t" + ") AS d" * 10_000
    chain = "SELECT " + " = ".join(["a"] * 5_000) + " FROM t"
    unary = "SELECT " + "-" * 5_000 + "1"
    with queryleaf.connect() as conn:
        for sql in (deep, derived, chain, unary):
            with pytest.raises(queryleaf.ParseError) as caught:
                conn.run_sql(sql)
            assert caught.value.code == "QL104"
            assert "max_nesting_depth" in caught.value.message
        previous = queryleaf.set_limits(max_statement_length=100)
        try:
            with pytest.raises(queryleaf.ParseError) as caught:
                conn.run_sql("SELECT '" + "x" * 200 + "'")
            assert "max_statement_length" in caught.value.message
        finally:
            queryleaf.set_limits(max_statement_length=previous.max_statement_length)
        assert LIMITS.max_statement_length == previous.max_statement_length
        # at the limit every family still plans and runs
        conn.run_sql("INSERT INTO t (a, name) VALUES (1, 'x')")
        depth = LIMITS.max_nesting_depth - 2
        conn.run_sql("SELECT " + "LENGTH(" * depth + "name" + ")" * depth + " FROM t")
        conn.run_sql("SELECT * FROM t WHERE " + " AND ".join(["a > 0"] * 3_000))
