"""The shortcuts of cold translation give the answers of the full work they skip: the
nesting-depth bound, the INTO test on the text, the aggregate and constant tests before any
walk, the placeholder search, and sqlglot's parser reused per thread."""

from __future__ import annotations

import random
import threading

import pytest
import sqlglot
from sqlglot import exp

import queryleaf
from queryleaf.parse import parse_sql
from queryleaf.parse import sql as parse_module
from queryleaf.parse.limits import _depth_bound, _too_deep_at
from queryleaf.plan.aggregate_calls import _contains_aggregate, contains_aggregate
from queryleaf.plan.literals import NotConstant, constant_value, placeholders_in_text_order

STATEMENTS = [
    "SELECT name FROM users WHERE age > 30",
    "SELECT city, COUNT(*) AS n FROM users GROUP BY city HAVING COUNT(*) > 1",
    "SELECT SUM(x) OVER (PARTITION BY g ORDER BY MAX(y)) AS s FROM t GROUP BY g",
    "SELECT ROW_NUMBER() OVER (ORDER BY a) AS r FROM t",
    "SELECT (SELECT MAX(v) FROM u) AS m FROM t",
    "SELECT JSON_ARRAYAGG(a) AS j, GROUP_CONCAT(b) AS g FROM t",
    "SELECT UPPER(name), NOW() - INTERVAL 1 DAY, -3, 'x', NULL, TRUE FROM t",
    "SELECT a FROM t WHERE b = ? AND c = :name LIMIT ?, ?",
]


def test_the_depth_bound_never_skips_a_statement_the_scan_refuses() -> None:
    pieces = ["(", ")", "[", "]", "{", "}", "-", "+", "~", "!", " NOT ", " CASE ", " END ",
              "'(((", "')", "a", " ", "1", "--(\n", "/*((*/", "#(\n"]  # fmt: skip
    chooser = random.Random(16)
    for _ in range(3000):
        text = "".join(chooser.choice(pieces) for _ in range(chooser.randrange(1, 60)))
        limit = chooser.randrange(1, 12)
        if _depth_bound(text) <= limit:
            assert _too_deep_at(text, limit) is None, (text, limit)


def test_select_into_is_refused_whatever_its_spelling(conn) -> None:
    for sql in (
        "SELECT a INTO t2 FROM t",
        "select a into t2 from t",
        "SELECT a /* x */ InTo t2 FROM t",
        "SELECT a FROM t UNION SELECT b INTO t3 FROM u",
    ):
        with pytest.raises(queryleaf.QueryLeafError) as raised:
            conn.run_sql(sql)
        assert raised.value.code == "QL201" and "INTO" in raised.value.message


def test_aggregate_and_constant_shortcuts_agree_with_the_full_walks() -> None:
    for text in STATEMENTS:
        tree = sqlglot.parse_one(text, read="mysql")
        for node in tree.walk():
            assert contains_aggregate(node) == _contains_aggregate(node), node.sql()
            try:
                value = constant_value(node)
            except NotConstant:
                value = NotConstant
            except queryleaf.QueryLeafError:
                continue
            if isinstance(node, exp.Column):
                assert value is NotConstant


def test_placeholders_are_found_in_text_order_or_not_at_all() -> None:
    for text in STATEMENTS:
        tree = sqlglot.parse_one(text, read="mysql")
        found = placeholders_in_text_order(tree, text)
        assert len(found) == len(list(tree.find_all(exp.Placeholder)))
    tree = sqlglot.parse_one(STATEMENTS[-1], read="mysql")
    names = [p.name for p in placeholders_in_text_order(tree, STATEMENTS[-1])]
    assert names[1] == "name"


def test_the_reused_parser_parses_like_a_fresh_one_in_every_thread() -> None:
    texts = [*STATEMENTS, "SELECT (a FROM", "SELECT 'open", *STATEMENTS]
    failures: list[str] = []

    def work() -> None:
        for text in texts * 5:
            parse_module.parse_sql.cache_clear()
            try:
                ours = parse_sql(text)
            except queryleaf.QueryLeafError:
                continue
            if ours != sqlglot.parse_one(text, read="mysql"):
                failures.append(text)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures
    with pytest.raises(queryleaf.ParseError):
        parse_sql("SELECT (a FROM t")
    assert parse_sql("SELECT 1 AS one").sql("mysql") == "SELECT 1 AS one"
