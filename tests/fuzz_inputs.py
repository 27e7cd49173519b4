"""Statements for the fuzz test (tests/test_fuzz.py): the project's own statement corpus
(tests/cases, examples, the seed statements) mutated by a seeded random generator that knows
the shape of SQL tokens, plus deep nesting, huge literals, odd unicode and raw bytes.

`inputs(seed, count)` is deterministic for a seed, so a failure is reproduced by its seed and
index. Run this module to fuzz a larger corpus locally:

    .venv/bin/python -m tests.fuzz_inputs --count 50000 --seed 7
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).parent.parent
TOKEN = re.compile(
    r"""'(?:[^'\\]|\\.|'')*'|"[^"]*"|`[^`]*`|\d+(?:\.\d+)?(?:e[+-]?\d+)?|[A-Za-z_][\w.$]*"""
    r"""|<=>|<>|!=|<=|>=|\|\||->>|->|::|\S""",
    re.IGNORECASE,
)

# Statements the issue reported crashing, and near relatives: they stay in the corpus.
KNOWN = [
    "SELECT DATE_ADD('2024-01-01'",
    "SELECT COUNT() FROM u",
    "SELECT tags.x.y FROM users",
    "SELECT items[1.5] FROM orders",
    "SELECT name FROM users WHERE name REGEXP '('",
    "SELECT ROUND(1, 1000)",
    "SELECT FROM_UNIXTIME(1e309)",
    "INSERT INTO t (a) VALUES (99999999999999999999999)",
    "INSERT INTO t (a) VALUES ('\ud800')",
    "INSERT INTO t (`a\x00b`) VALUES (1)",
    "INSERT INTO t (`$a`) VALUES (1)",
    "UPDATE t SET `x.$` = 1",
    "UPDATE t SET `tags.$[]` = 'x'",
    "SELECT `tags.$` FROM users",
    "SELECT a = a = a = a = a = a = a AS x FROM t",
    "SELECT LENGTH(LENGTH(LENGTH(LENGTH(LENGTH(LENGTH(LENGTH(name))))))) FROM users",
    "SELECT REPEAT('a', 100000000)",
    "SELECT * INTO t FROM users",
    "DELETE FROM users WHERE age != JSON_OBJECT('q', 1)",
    "SELECT * FROM users WHERE age",
    "SELECT * FROM users ORDER BY `a.$`",
    "SELECT COUNT(*) FROM users GROUP BY `$x`",
    "SELECT 1 / 0, 1 % 0, -9223372036854775808 - 1",
    "SELECT CAST('x' AS SIGNED), CAST(1e400 AS DECIMAL)",
    "SELECT SUBSTRING('abc', 99999999999999999999)",
    "SELECT DATE_FORMAT(NOW(), '%')",
    "SELECT LPAD('a', 99999999999, 'b')",
    "SELECT * FROM users LIMIT 99999999999999999999",
    "SELECT * FROM users LIMIT -1",
    "SELECT * FROM users WHERE name LIKE 'a' ESCAPE ''",
]

ODD_LITERALS = [
    "99999999999999999999999",
    "-99999999999999999999999",
    "1e309",
    "-1e309",
    "1e-400",
    "0x",
    "0xFFFFFFFFFFFFFFFFFFFFFF",
    "9223372036854775808",
    "-9223372036854775809",
    "'\ud800'",
    "'\udfff x'",
    "'\x00'",
    "'a\x00b'",
    "''",
    "'$x'",
    "'\\'",
    "'(('",
    "'%'",
    "'[a-'",
    "'2024-13-45'",
    "'9999-12-31 25:61:61'",
    "'" + "x" * 3000 + "'",
    "NULL",
    "TRUE",
    "JSON_OBJECT('a', 1)",
    "JSON_ARRAY(1, 'x')",
    "?",
    ":p",
    "1.5",
    "-0",
    "'\u202e\u0301'",
    "'\U0001f600'",
]

ODD_NAMES = [
    "$x",
    "`$x`",
    "`a.$`",
    "`a.$[]`",
    "`a.$[i]`",
    "a.$b",
    "`a\x00b`",
    "`\ud800`",
    "`a..b`",
    "`.a`",
    "`a.`",
    "items[1.5]",
    "items[-1]",
    "items[99999999999999999999]",
    "tags[0][0]",
    "address.city.zip",
    "``",
    "`" + "n" * 300 + "`",
    "_id",
    "system.views",
]

VOCABULARY = [
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IN",
    "IS",
    "NULL",
    "LIKE",
    "BETWEEN",
    "GROUP",
    "BY",
    "ORDER",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "JOIN",
    "ON",
    "LEFT",
    "UNION",
    "ALL",
    "DISTINCT",
    "AS",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "INSERT",
    "INTO",
    "VALUES",
    "UPDATE",
    "SET",
    "DELETE",
    "EXISTS",
    "OVER",
    "PARTITION",
    "WITH",
    "EMIT",
    "CHANGES",
    "(",
    ")",
    ",",
    ".",
    "*",
    "+",
    "-",
    "/",
    "%",
    "=",
    "<",
    ">",
    "<=>",
    "||",
    "[",
    "]",
    ";",
    "'",
    '"',
    "`",
    "?",
    ":x",
    "@",
    "#",
    "\\",
    "{",
    "}",
    "COUNT(",
    "SUM(",
    "MAX(",
    "DATE_ADD(",
    "DATE_SUB(",
    "INTERVAL",
    "DAY",
    "CAST(",
    "SUBSTRING(",
    "CONCAT(",
    "REPEAT(",
    "JSON_EXTRACT(",
    "COALESCE(",
    "IF(",
    "NOW()",
    "ROW_NUMBER()",
    "JSON_OBJECT(",
    "REGEXP",
    "ROUND(",
    "FROM_UNIXTIME(",
]

ODD_TEXT = [
    "\ud800",
    "\udc00",
    "\x00",
    "\x01",
    "\x7f",
    "\ufeff",
    "\u2028",
    "\r",
    "\t",
    "\x0b",
    "\U0010ffff",
    "\ufffd",
    "é",
    "ǅ",
    "\u0000\u0000",
]

TABLES = ["users", "orders", "products", "t", "u", "missing", "`weird name`"]


def corpus() -> list[str]:
    """Every statement the project keeps as text: case files, examples, seed statements."""
    from queryleaf.parse import split_statements

    statements: list[str] = list(KNOWN)
    for path in sorted((ROOT / "tests" / "cases").rglob("*.case")):
        for block in re.findall(r"^sql:(.*?)(?=^\w+:|^===|\Z)", path.read_text(), re.M | re.S):
            if block.strip():
                statements.append(block.strip())
    texts = [p.read_text() for p in sorted((ROOT / "examples").rglob("*.sql"))]
    seed_dir = ROOT / "examples" / "microservices" / "seed"
    texts += [p.read_text() for p in sorted(seed_dir.glob("*")) if p.is_file()]
    for text in texts:
        try:
            statements.extend(s.text for s in split_statements(text) if s.text.strip())
        except Exception:
            statements.append(text)
    return statements


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text) or [text]


def join(parts: list[str]) -> str:
    return " ".join(parts)


def mutate(rng: random.Random, statement: str) -> str:
    """One grammar-aware mutation of `statement` (tokens kept whole)."""
    parts = tokens(statement)
    kind = rng.randrange(12)
    at = rng.randrange(len(parts))
    if kind == 0:  # truncate
        return join(parts[:at])
    if kind == 1:  # drop a token
        return join(parts[:at] + parts[at + 1 :])
    if kind == 2:  # duplicate a token
        return join(parts[: at + 1] + parts[at:])
    if kind == 3:  # swap two tokens
        other = rng.randrange(len(parts))
        parts[at], parts[other] = parts[other], parts[at]
        return join(parts)
    if kind == 4:  # insert a vocabulary token
        return join([*parts[:at], rng.choice(VOCABULARY), *parts[at:]])
    if kind == 5:  # replace a literal
        literals = [i for i, p in enumerate(parts) if p[:1] in "'0123456789"]
        index = rng.choice(literals) if literals else at
        parts[index] = rng.choice(ODD_LITERALS)
        return join(parts)
    if kind == 6:  # replace a name
        names = [i for i, p in enumerate(parts) if p[:1].isalpha() or p[:1] in "`_"]
        index = rng.choice(names) if names else at
        parts[index] = rng.choice(ODD_NAMES)
        return join(parts)
    if kind == 7:  # odd characters inside the text
        cut = rng.randrange(len(statement) + 1)
        return statement[:cut] + rng.choice(ODD_TEXT) + statement[cut:]
    if kind == 8:  # wrap a token in nesting
        depth = rng.choice([3, 20, 60, 150, 400])
        parts[at] = "(" * depth + parts[at] + ")" * depth
        return join(parts)
    if kind == 9:  # splice two statements
        return statement + rng.choice([" ", " UNION ALL ", ", ", "; "]) + statement
    if kind == 10:  # a token repeated many times
        return join(parts[:at] + [parts[at]] * rng.choice([2, 50, 400]) + parts[at:])
    return join([*parts[:at], rng.choice(ODD_LITERALS + ODD_NAMES), *parts[at + 1 :]])


def nested(rng: random.Random) -> str:
    """Deep nesting of one construct."""
    depth = rng.choice([10, 50, 200, 600, 1500, 10000])
    kind = rng.randrange(7)
    if kind == 0:
        return "SELECT * FROM " + "(SELECT * FROM " * depth + "users" + ") AS d" * depth
    if kind == 1:
        return "SELECT " + "(" * depth + "1" + ")" * depth
    if kind == 2:
        return "SELECT " + "LENGTH(" * depth + "name" + ")" * depth + " FROM users"
    if kind == 3:
        return "SELECT " + " = ".join(["a"] * depth) + " FROM t"
    if kind == 4:
        return "SELECT * FROM users WHERE " + " AND ".join(["age > 1"] * depth)
    if kind == 5:
        return "SELECT " + "-" * depth + "1"
    return "SELECT " + "JSON_ARRAY(" * depth + "1" + ")" * depth


def raw_bytes(rng: random.Random) -> str:
    data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 80)))
    return data.decode("latin-1") if rng.random() < 0.5 else data.decode("utf-8", "replace")


def huge(rng: random.Random) -> str:
    size = rng.choice([10_000, 200_000])
    kind = rng.randrange(4)
    if kind == 0:
        return "SELECT '" + "x" * size + "'"
    if kind == 1:
        return "SELECT " + "9" * size
    if kind == 2:
        return "SELECT " + "1 + " * (size // 4) + "1"
    return "SELECT " + ", ".join(["a"] * (size // 3)) + " FROM users"


def inputs(seed: int, count: int) -> Iterator[str]:
    """`count` statements for `seed`: mostly mutations (one to three) of the corpus, with some
    deep nesting, huge texts and raw bytes."""
    rng = random.Random(seed)
    statements = corpus()
    for _ in range(count):
        roll = rng.random()
        if roll < 0.04:
            yield nested(rng)
        elif roll < 0.06:
            yield huge(rng)
        elif roll < 0.09:
            yield raw_bytes(rng)
        else:
            text = rng.choice(statements)
            for _ in range(rng.choice([0, 1, 1, 1, 2, 3])):
                text = mutate(rng, text)
            yield text
