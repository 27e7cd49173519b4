"""Text-level helpers for PostgreSQL statements: `$n` placeholders to queryleaf's `:pn`
(outside strings, quoted identifiers and comments) and the leading keywords."""

from __future__ import annotations

import re

_WORDS = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")


def scan_code(sql: str) -> list[tuple[int, int]]:
    """Spans of `sql` that are code: not inside '...', E'...', "...", -- or /* */."""
    spans = []
    i = start = 0
    n = len(sql)
    while i < n:
        ch = sql[i]
        if ch in "'\"":
            spans.append((start, i))
            escaped = ch == "'" and i > 0 and sql[i - 1] in "eE"
            j = i + 1
            while j < n:
                if escaped and sql[j] == "\\":
                    j += 2
                    continue
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:
                        j += 2
                        continue
                    break
                j += 1
            i = start = j + 1
            continue
        if sql.startswith("--", i):
            spans.append((start, i))
            end = sql.find("\n", i)
            i = start = n if end < 0 else end
            continue
        if sql.startswith("/*", i):
            spans.append((start, i))
            end = sql.find("*/", i + 2)
            i = start = n if end < 0 else end + 2
            continue
        i += 1
    spans.append((start, n))
    return [(a, b) for a, b in spans if b > a]


_DOLLAR = re.compile(r"\$(\d+)")
_LETTERS = "bcdfghjklmnpqrstvwxz"  # no keyword is spelled with these alone


def param_name(number: int) -> str:
    """The queryleaf placeholder name standing for `$number`, as long as its digits, so a
    rewritten statement keeps every offset (error carets stay true)."""
    width = len(str(number))
    letters = []
    for _ in range(width):
        number, digit = divmod(number, len(_LETTERS))
        letters.append(_LETTERS[digit])
    return "".join(reversed(letters))


def dollar_params(sql: str) -> tuple[str, int]:
    """`$n` -> `:name` (same length) in code; the text and the highest n."""
    highest = 0
    parts = []
    last = 0
    for a, b in scan_code(sql):
        for match in _DOLLAR.finditer(sql, a, b):
            number = int(match.group(1))
            highest = max(highest, number)
            parts.append(sql[last : match.start()])
            parts.append(":" + param_name(number))
            last = match.end()
    parts.append(sql[last:])
    return "".join(parts), highest


def params_mapping(values: list) -> dict:
    """Bind values (in $1.. order) keyed by their placeholder names."""
    return {param_name(i + 1): value for i, value in enumerate(values)}


def leading_words(sql: str, count: int = 3) -> list[str]:
    """The first keywords of the statement's code, upper-cased."""
    words: list[str] = []
    for a, b in scan_code(sql):
        for match in _WORDS.finditer(sql, a, b):
            words.append(match.group(0).upper())
            if len(words) >= count:
                return words
        if sql[a:b].strip(" \t\r\n;") and not words:
            break
    return words
