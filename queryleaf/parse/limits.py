"""Limits checked before a statement is parsed or planned: its length and how deeply it nests.

A statement nested thousands of levels deep would exhaust Python's stack in the parser or the
planner (or crash sqlglot's compiled parser), so the depth is measured first, on the text
(parentheses, brackets, braces, CASE ... END and runs of prefix operators, outside strings,
quoted names and comments), and again on the parsed tree (long operator chains such as
`a = a = a ...`). Both are refused with QL104 naming the limit and how to raise it.

The limits are process-wide: `set_limits()` changes them, and the environment variables
QUERYLEAF_MAX_STATEMENT_LENGTH and QUERYLEAF_MAX_NESTING_DEPTH set them at start-up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from queryleaf.errors import ParseError

DEFAULT_MAX_STATEMENT_LENGTH = 1_000_000  # characters
DEFAULT_MAX_NESTING_DEPTH = 64
# How deep a limit may be set: beyond it the planner's recursion would exhaust the stack.
HIGHEST_NESTING_DEPTH = 100


@dataclass
class Limits:
    max_statement_length: int
    max_nesting_depth: int


def _from_env(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


LIMITS = Limits(
    max_statement_length=_from_env("QUERYLEAF_MAX_STATEMENT_LENGTH", DEFAULT_MAX_STATEMENT_LENGTH),
    max_nesting_depth=min(
        HIGHEST_NESTING_DEPTH,
        _from_env("QUERYLEAF_MAX_NESTING_DEPTH", DEFAULT_MAX_NESTING_DEPTH),
    ),
)


def set_limits(
    *, max_statement_length: int | None = None, max_nesting_depth: int | None = None
) -> Limits:
    """Change the limits for this process; returns the previous ones."""
    previous = Limits(LIMITS.max_statement_length, LIMITS.max_nesting_depth)
    if max_statement_length is not None:
        LIMITS.max_statement_length = max(1, int(max_statement_length))
    if max_nesting_depth is not None:
        LIMITS.max_nesting_depth = max(1, min(HIGHEST_NESTING_DEPTH, int(max_nesting_depth)))
    return previous


OPENERS = "([{"
CLOSERS = ")]}"
PREFIX_OPERATORS = "-+~!"
QUOTES = "'\"`"


def check_text(text: str) -> None:
    """Refuse a statement over the length limit, or nested deeper than the depth limit."""
    if len(text) > LIMITS.max_statement_length:
        raise ParseError(
            f"the statement is {len(text):,} characters long, over the limit of "
            f"{LIMITS.max_statement_length:,} (max_statement_length)",
            offset=0,
            hint="split it, pass large values as parameters, or raise the limit with "
            "queryleaf.set_limits(max_statement_length=...) or "
            "QUERYLEAF_MAX_STATEMENT_LENGTH",
            code="QL104",
        )
    if _depth_bound(text) <= LIMITS.max_nesting_depth:
        return  # cannot nest deeper than the limit: no need to scan it
    offset = _too_deep_at(text, LIMITS.max_nesting_depth)
    if offset is not None:
        raise _depth_error(offset)


def _depth_bound(text: str) -> int:
    """An upper bound of the depth `_too_deep_at` measures, in a few passes of str.count:
    every opener, CASE, prefix operator and NOT of the text (strings and comments included)
    as if all were nested."""
    upper = text.upper()
    return (
        sum(text.count(ch) for ch in OPENERS)
        + sum(text.count(ch) for ch in PREFIX_OPERATORS)
        + upper.count("CASE")
        + upper.count("NOT")
    )


def _depth_error(offset: int) -> ParseError:
    return ParseError(
        f"the statement nests deeper than the limit of {LIMITS.max_nesting_depth} levels "
        "(max_nesting_depth)",
        offset=offset,
        hint="flatten it (a CTE or a derived table per step), or raise the limit with "
        "queryleaf.set_limits(max_nesting_depth=...) or QUERYLEAF_MAX_NESTING_DEPTH "
        f"(at most {HIGHEST_NESTING_DEPTH})",
        code="QL104",
    )


def _too_deep_at(text: str, limit: int) -> int | None:
    """Offset where the text first nests deeper than `limit`, or None."""
    depth = 0
    run = 0  # consecutive prefix operators / NOT
    i = 0
    n = len(text)
    upper = text.upper()
    while i < n:
        ch = text[i]
        if ch in QUOTES:
            i = _after_quote(text, i)
            continue
        if (text.startswith("--", i) and text[i + 2 : i + 3] in ("", " ", "\t", "\n", "\r")) or (
            ch == "#"
        ):
            newline = text.find("\n", i)
            i = n if newline < 0 else newline + 1
            continue
        if text.startswith("/*", i):
            close = text.find("*/", i + 2)
            i = n if close < 0 else close + 2
            continue
        if ch in OPENERS:
            depth += 1
            run = 0
        elif ch in CLOSERS:
            depth = max(0, depth - 1)
            run = 0
        elif ch in PREFIX_OPERATORS:
            run += 1
        elif ch.isalpha() or ch == "_":
            end = i
            while end < n and (text[end].isalnum() or text[end] in "_$"):
                end += 1
            word = upper[i:end]
            if word == "CASE":
                depth += 1
            elif word == "END":
                depth = max(0, depth - 1)
            run = run + 1 if word == "NOT" else 0
            i = end
            if depth + run > limit:
                return i
            continue
        elif not ch.isspace():
            run = 0
        if depth + run > limit:
            return i
        i += 1
    return None


def _after_quote(text: str, start: int) -> int:
    quote = text[start]
    i = start + 1
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and quote != "`":
            i += 2
            continue
        if ch == quote:
            if i + 1 < n and text[i + 1] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    return n


# Chains of one connective are planned as one flat list, so they do not count as depth.
def check_tree(tree: Any) -> None:
    """Refuse a parsed statement whose tree nests deeper than the depth limit (counted over
    the nodes that nest a value: an operator chain `a = a = a` nests as deep as it is long).
    Paren nodes are not counted (the text check counted them)."""
    from sqlglot import exp

    limit = LIMITS.max_nesting_depth
    stack: list[tuple[Any, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        for child in node.iter_expressions():
            flat = isinstance(child, exp.Paren | exp.Identifier) or (
                isinstance(child, exp.Connector) and type(child) is type(node)
            )
            child_depth = depth if flat else depth + 1
            if child_depth > limit * 2:
                # Each level of the text is up to two tree levels (a call and its argument
                # list, a comparison and its operand); the text check bounds the rest.
                meta = getattr(child, "_meta", None) or {}
                raise _depth_error(int(meta.get("start", 0)))
            stack.append((child, child_depth))
