"""Syntax highlighting for the shell: Pygments' MySQL lexer (the dialect is MySQL-flavoured)
plus queryleaf's own words, backslash commands and `:name` placeholders."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from prompt_toolkit.lexers import Lexer, PygmentsLexer
from prompt_toolkit.styles import Style, merge_styles, style_from_pygments_cls
from pygments.lexer import inherit, words
from pygments.lexers.sql import MySqlLexer
from pygments.styles import get_style_by_name
from pygments.token import Keyword, Name
from pygments.util import ClassNotFound

# The change-stream dialect: statements, table functions and clauses of queryleaf's own.
DIALECT_WORDS = (
    "EVENT_SUBSCRIPTIONS",
    "EVENT_SUBSCRIPTION",
    "CHANGE_STREAM_EVENTS",
    "ACTIVE_CHANGE_STREAMS",
    "DEAD_LETTER_EVENTS",
    "CHANGES",
    "EMIT",
)


# Words shown as keywords. MySQL's lexer also colours its hundreds of non-reserved words
# (name, status, type, data, value...), which in MongoDB are everyday field names.
KEYWORDS = frozenset(
    (
        "SELECT", "DISTINCT", "FROM", "WHERE", "AND", "OR", "NOT", "XOR", "AS", "JOIN", "INNER",
        "LEFT", "RIGHT", "FULL", "OUTER", "CROSS", "NATURAL", "ON", "USING", "GROUP", "BY", "HAVING",
        "ORDER", "ASC", "DESC", "LIMIT", "OFFSET", "IN", "IS", "NULL", "LIKE", "ILIKE", "REGEXP",
        "BETWEEN", "ESCAPE", "CASE", "WHEN", "THEN", "ELSE", "END", "TRUE", "FALSE", "INSERT",
        "INTO", "VALUES", "UPDATE", "SET", "DELETE", "EXPLAIN", "WITH", "RECURSIVE", "UNION",
        "INTERSECT", "EXCEPT", "ALL", "ANY", "SOME", "EXISTS", "CREATE", "DROP", "ALTER", "TRUNCATE",
        "TABLE", "VIEW", "INDEX", "IF", "DIV", "MOD", "OVER", "PARTITION", "ROWS", "RANGE", "WINDOW",
        "INTERVAL", "SEPARATOR", "SIGNED", "UNSIGNED", "INT", "INTEGER", "BIGINT", "DECIMAL",
        "DOUBLE", "FLOAT", "CHAR", "VARCHAR", "TEXT", "DATE", "DATETIME", "TIMESTAMP", "TIME",
        "BOOLEAN", "START", "STOP", "SHOW", "DESCRIBE", "PRIMARY", "KEY", "UNIQUE", "DEFAULT", "FOR",
        "NULLS", "FIRST", "LAST", "COLLATE",
    )
)  # fmt: skip


def _word(lexer: object, match: re.Match[str]) -> Iterator[tuple[int, Any, str]]:
    word = match.group()
    yield match.start(), Keyword if word.upper() in KEYWORDS else Name, word


class QueryLeafLexer(MySqlLexer):
    """MySQL's lexer with the dialect's words as keywords, `\\cmd` as a command, `:name` as
    a placeholder, and only SQL's own keywords coloured as keywords."""

    name = "queryleaf"
    aliases = ["queryleaf"]
    flags = MySqlLexer.flags

    tokens = {
        "root": [
            (r"(?m:^)\s*\\\S*", Keyword.Pseudo),
            (r"EMIT\s+CHANGES\b", Keyword),
            (words(DIALECT_WORDS, prefix=r"\b", suffix=r"\b"), Keyword),
            (r"(?<![\w:]):[A-Za-z_]\w*", Name.Variable),
            (r"[A-Za-z_][\w$]*\b(?!\s*\()", _word),  # a word that is not a function call
            inherit,
        ],
    }


def lexer(color_scheme: str) -> Lexer | None:
    """The prompt's lexer, or None when colours are off."""
    if color_scheme.lower() == "none":
        return None
    return PygmentsLexer(QueryLeafLexer)


UI_STYLE = {
    "prompt": "bold",
    "continuation": "#888888",
    "bottom-toolbar": "noreverse #888888",
}


def style(color_scheme: str) -> tuple[Style | None, str | None]:
    """(prompt-toolkit style, warning). An unknown scheme falls back to 'default' with a
    warning; 'none' gives no style."""
    if color_scheme.lower() == "none":
        return None, None
    warning = None
    try:
        pygments_style: Any = get_style_by_name(color_scheme)
    except ClassNotFound:
        warning = f"unknown color_scheme {color_scheme!r}; using 'default'"
        pygments_style = get_style_by_name("default")
    return merge_styles(
        [style_from_pygments_cls(pygments_style), Style.from_dict(UI_STYLE)]
    ), warning
