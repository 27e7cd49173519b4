"""Standard SQL through sqlglot, with its errors turned into ours."""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError as SqlglotParseError
from sqlglot.errors import TokenError

from queryleaf.errors import ParseError
from queryleaf.parse.limits import check_text, check_tree

# sqlglot logs warnings ("falling back to parsing as a Command") to stderr; statements it
# cannot fully parse are handled (or refused with a clear error) by the planner.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

# sqlglot's tokenizer and (compiled) parser for a dialect, made once per thread: making them
# (the dialect's look-up, the tokenizer's tables) costs a quarter of a parse. Both reset their
# state at every call; a thread has its own because they keep state during one.
_PARSERS = threading.local()


def _parse_trees(text: str, dialect: str) -> list[Any]:
    made: dict[str, tuple[Any, Any]] | None = getattr(_PARSERS, "made", None)
    if made is None:
        made = _PARSERS.made = {}
    pair = made.get(dialect)
    if pair is None:
        reader = sqlglot.Dialect.get_or_raise(dialect)
        pair = made[dialect] = (reader.tokenizer(), reader.parser())
    tokenizer, parser = pair
    return parser.parse(tokenizer.tokenize(text), text)


@lru_cache(maxsize=1024)
def parse_sql(text: str, dialect: str = "mysql") -> exp.Expression:
    """Parse one statement. Cached on the text: callers must not mutate the tree."""
    check_text(text)
    try:
        trees = _parse_trees(text, dialect)
    except SqlglotParseError as error:
        raise _convert(error, text) from None
    except TokenError as error:
        raise ParseError(f"cannot read the statement: {error}", offset=0, code="QL101") from None
    except (TypeError, ValueError, AttributeError, IndexError, KeyError) as error:
        # sqlglot fails this way on some incomplete statements (`DATE_SUB((x))`).
        raise ParseError(
            "cannot parse the statement: a call or clause is incomplete",
            offset=0,
            hint=f"check the arguments of each call ({type(error).__name__}: {error})",
            code="QL101",
        ) from None
    trees = [t for t in trees if t is not None]
    if len(trees) != 1:
        raise ParseError("expected exactly one statement", offset=0, code="QL101")
    check_tree(trees[0])
    return trees[0]


def _convert(error: SqlglotParseError, text: str) -> ParseError:
    first = error.errors[0] if error.errors else {}
    description = str(first.get("description") or error).strip()
    line, col = first.get("line"), first.get("col")
    offset = _offset(text, line, col)
    highlight = (first.get("highlight") or "").strip()
    if highlight and offset is not None:
        # sqlglot reports the end of the offending token; point at its start.
        offset = max(0, offset - len(highlight) + 1)
    message = _friendly(description, highlight)
    return ParseError(
        message,
        offset=offset,
        hint="check the syntax near the caret",
        code="QL101",
    )


def _friendly(description: str, highlight: str) -> str:
    if description.startswith("Invalid expression / Unexpected token"):
        return f"syntax error: unexpected {highlight!r}" if highlight else "syntax error"
    if description.startswith("Required keyword"):
        return f"syntax error: incomplete expression before {highlight!r}"
    return f"syntax error: {description}"


def _offset(text: str, line: int | None, col: int | None) -> int | None:
    if not line or not col:
        return None
    lines = text.split("\n")
    if line > len(lines):
        return len(text)
    return sum(len(part) + 1 for part in lines[: line - 1]) + col - 1
