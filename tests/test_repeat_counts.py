"""A fractional count in REPEAT, SPACE, LPAD and RPAD is rounded half away from zero, as MySQL
and MariaDB convert it (REPEAT('ab', 1.5) is 'abab'), never a partial copy of the text."""

from __future__ import annotations


def test_fractional_counts_round_half_away_from_zero(conn) -> None:
    conn.run_sql("INSERT INTO t (_id, s, k) VALUES (1, 'ab', 1.5), (2, 'ab', 2.5), (3, 'ab', 1.4)")
    conn.run_sql("INSERT INTO t (_id, s, k) VALUES (4, 'ab', -0.5), (5, 'ab', 0.5)")
    rows = conn.run_sql(
        "SELECT _id, REPEAT(s, k) AS r, CONCAT('[', SPACE(k), ']') AS sp, "
        "LPAD(s, k + 1, 'x') AS l, RPAD(s, k + 1, 'x') AS rp FROM t ORDER BY _id"
    ).rows
    assert [(r["_id"], r["r"], r["sp"], r["l"], r["rp"]) for r in rows] == [
        (1, "abab", "[  ]", "xab", "abx"),
        (2, "ababab", "[   ]", "xxab", "abxx"),
        (3, "ab", "[ ]", "ab", "ab"),
        (4, "", "[]", "a", "a"),
        (5, "ab", "[ ]", "ab", "ab"),
    ]


def test_fractional_constant_counts(conn) -> None:
    row = conn.run_sql(
        "SELECT REPEAT('ab', 1.5) AS a, REPEAT('ab', 2.5) AS b, REPEAT('ab', 1.4) AS c, "
        "REPEAT('ab', -0.5) AS d, CONCAT('[', SPACE(1.5), ']') AS e, LPAD('ab', 2.5, 'x') AS f"
    ).rows[0]
    assert row == {"a": "abab", "b": "ababab", "c": "ab", "d": "", "e": "[  ]", "f": "xab"}
