"""Split a script into statements at top-level semicolons, respecting quotes, backticks,
`--`, `#` and `/* */` comments, so each statement keeps its offset in the script."""

from __future__ import annotations

from dataclasses import dataclass

from queryleaf.errors import ParseError


@dataclass(frozen=True)
class Statement:
    text: str
    offset: int  # where `text` starts in the script


def split_statements(script: str, source_name: str | None = None) -> list[Statement]:
    statements: list[Statement] = []
    start = 0
    i = 0
    n = len(script)
    while i < n:
        ch = script[i]
        if ch in "'\"`":
            end = _closing_quote(script, i)
            if end < 0:
                error = ParseError(
                    f"unterminated {_QUOTE_NAMES[ch]} starting here",
                    offset=i,
                    hint=f"close it with {ch}",
                    code="QL102",
                )
                error.locate(script, 0, source_name)
                raise error
            i = end + 1
            continue
        if script.startswith("--", i) or ch == "#":
            newline = script.find("\n", i)
            i = n if newline < 0 else newline + 1
            continue
        if script.startswith("/*", i):
            close = script.find("*/", i + 2)
            if close < 0:
                error = ParseError(
                    "unterminated comment starting here",
                    offset=i,
                    hint="close it with */",
                    code="QL102",
                )
                error.locate(script, 0, source_name)
                raise error
            i = close + 2
            continue
        if ch == ";":
            _append(statements, script, start, i)
            start = i + 1
        i += 1
    _append(statements, script, start, n)
    return statements


_QUOTE_NAMES = {"'": "string", '"': "quoted identifier", "`": "quoted identifier"}


def _closing_quote(script: str, i: int) -> int:
    quote = script[i]
    j = i + 1
    while j < len(script):
        ch = script[j]
        if ch == "\\" and quote == "'":
            j += 2
            continue
        if ch == quote:
            if script.startswith(quote * 2, j):  # a doubled quote is an escaped quote
                j += 2
                continue
            return j
        j += 1
    return -1


def _append(statements: list[Statement], script: str, start: int, end: int) -> None:
    chunk = script[start:end]
    lead = _code_start(chunk)
    if lead < 0:
        return
    statements.append(Statement(chunk[lead:].rstrip(), start + lead))


def _code_start(chunk: str) -> int:
    """Where the code of `chunk` starts after leading whitespace and comments (-1: none)."""
    i = 0
    while i < len(chunk):
        if chunk[i].isspace():
            i += 1
        elif chunk.startswith("--", i) or chunk[i] == "#":
            newline = chunk.find("\n", i)
            i = len(chunk) if newline < 0 else newline + 1
        elif chunk.startswith("/*", i):
            close = chunk.find("*/", i + 2)
            i = len(chunk) if close < 0 else close + 2
        else:
            return i
    return -1
