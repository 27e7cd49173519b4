"""The dialect's extension statements (EVENT_SUBSCRIPTION DDL, dead-letter commands) through
the Lark grammar in grammar/queryleaf.lark, to plain AST dataclasses with positions."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import lark
from lark import Token, Tree

from queryleaf.errors import ParseError

# Statements that start like this belong to the grammar; everything else is standard SQL.
EXTENSION_START = re.compile(
    r"""^\s*(
        CREATE\s+(OR\s+REPLACE\s+)?EVENT_SUBSCRIPTION\b
      | (ALTER|DROP|START|STOP|PAUSE|RESUME)\s+EVENT_SUBSCRIPTION\b
      | SHOW\s+EVENT_SUBSCRIPTIONS\b
      | EXPLAIN\s+(CREATE\s+(OR\s+REPLACE\s+)?)?EVENT_SUBSCRIPTION\b
      | (REPLAY|DISCARD)\s+DEAD_LETTER_EVENTS\b
    )""",
    re.IGNORECASE | re.VERBOSE,
)

KEYWORDS = [
    "CREATE", "OR REPLACE", "EVENT_SUBSCRIPTION", "IF NOT EXISTS", "AS", "ALTER", "SET",
    "DROP", "IF EXISTS", "START", "STOP", "PAUSE", "RESUME", "SHOW", "EVENT_SUBSCRIPTIONS",
    "EXPLAIN", "REPLAY", "DISCARD", "DEAD_LETTER_EVENTS", "FOR", "WHERE", "JSON_ARRAY",
    "JSON_OBJECT", "TRUE", "FALSE", "NULL",
]  # fmt: skip


COMMENTS = re.compile(r"--[^\n]*|#[^\n]*|/\*.*?\*/", re.DOTALL)


def is_extension(text: str) -> bool:
    # The leading keywords come before any string literal, so comments can be cut naively.
    head = COMMENTS.sub(" ", text[:400])
    return EXTENSION_START.match(head) is not None


@dataclass
class OptionValue:
    name: str
    value: Any
    offset: int  # of the option name in the statement
    value_offset: int


@dataclass
class CreateSubscription:
    name: str
    options: dict[str, OptionValue]
    or_replace: bool = False
    if_not_exists: bool = False
    offset: int = 0


@dataclass
class AlterSubscription:
    name: str
    options: dict[str, OptionValue]


@dataclass
class DropSubscription:
    name: str
    if_exists: bool = False


@dataclass
class ControlSubscription:
    action: str  # START, STOP, PAUSE or RESUME
    name: str


@dataclass
class ShowSubscriptions:
    pass


@dataclass
class ExplainSubscription:
    name: str


@dataclass
class ExplainCreate:
    create: CreateSubscription


@dataclass
class DeadLetterCommand:
    action: str  # REPLAY or DISCARD
    name: str
    condition: str | None = None
    condition_offset: int = 0


Extension = (
    CreateSubscription
    | AlterSubscription
    | DropSubscription
    | ControlSubscription
    | ShowSubscriptions
    | ExplainSubscription
    | ExplainCreate
    | DeadLetterCommand
)


@dataclass
class _Duplicate:
    names: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def _parser() -> lark.Lark:
    grammar = resources.files("queryleaf.grammar").joinpath("queryleaf.lark").read_text()
    return lark.Lark(grammar, parser="lalr", propagate_positions=True)


@lru_cache(maxsize=256)
def parse_extension(text: str) -> Extension:
    """Parse one extension statement. Cached on the text: callers must not mutate it."""
    try:
        tree = _parser().parse(text)
    except lark.exceptions.UnexpectedInput as error:
        raise _syntax_error(error, text) from None
    statement = tree.children[0]
    assert isinstance(statement, Tree)
    return _build(statement)


def _build(node: Tree) -> Extension:
    kind = node.data
    if kind == "create_subscription":
        return _create(node)
    if kind == "explain_create":
        return ExplainCreate(_create(node.children[1]))
    names = [c for c in node.children if isinstance(c, Token) and c.type == "NAME"]
    name = _name(names[0]) if names else ""
    if kind == "alter_subscription":
        return AlterSubscription(name, _options(_child(node, "options")))
    if kind == "drop_subscription":
        return DropSubscription(name, if_exists=_child(node, "if_exists") is not None)
    if kind == "control_subscription":
        return ControlSubscription(str(node.children[0]).upper(), name)
    if kind == "show_subscriptions":
        return ShowSubscriptions()
    if kind == "explain_subscription":
        return ExplainSubscription(name)
    if kind == "dead_letters":
        condition = next(
            (c for c in node.children if isinstance(c, Token) and c.type == "CONDITION"), None
        )
        return DeadLetterCommand(
            str(node.children[0]).upper(),
            name,
            str(condition) if condition is not None else None,
            condition.start_pos if condition is not None else 0,
        )
    raise AssertionError(kind)


def _create(node: Tree) -> CreateSubscription:
    name_token = next(c for c in node.children if isinstance(c, Token) and c.type == "NAME")
    return CreateSubscription(
        _name(name_token),
        _options(_child(node, "options")),
        or_replace=_child(node, "or_replace") is not None,
        if_not_exists=_child(node, "if_not_exists") is not None,
        offset=node.meta.start_pos,
    )


def _child(node: Tree, name: str) -> Tree | None:
    for child in node.children:
        if isinstance(child, Tree) and child.data == name:
            return child
    return None


def _name(token: Token) -> str:
    text = str(token)
    return text[1:-1] if text.startswith("`") else text


def _options(node: Tree | None) -> dict[str, OptionValue]:
    options: dict[str, OptionValue] = {}
    if node is None:
        return options
    for option in node.children:
        if not isinstance(option, Tree):
            continue
        name_token, value_node = option.children[0], option.children[1]
        name = _name(name_token).lower()
        if name in options:
            raise ParseError(
                f"option {name} is given twice",
                offset=name_token.start_pos,
                hint="give each option once",
                code="QL103",
            )
        value_offset = (
            value_node.meta.start_pos if isinstance(value_node, Tree) else name_token.start_pos
        )
        options[name] = OptionValue(name, _value(value_node), name_token.start_pos, value_offset)
    return options


def _value(node: Tree | Token) -> Any:
    kind = node.data if isinstance(node, Tree) else None
    if kind == "string":
        return _unquote(str(node.children[0]))
    if kind == "number":
        text = str(node.children[0])
        try:
            return int(text)
        except ValueError:
            return float(text)
    if kind == "true":
        return True
    if kind == "false":
        return False
    if kind == "null":
        return None
    assert isinstance(node, Tree)
    items = [_value(c) for c in node.children if isinstance(c, Tree)]
    if kind == "json_array":
        return items
    if len(items) % 2:
        raise ParseError(
            "JSON_OBJECT takes key, value pairs: an odd number of arguments was given",
            offset=node.meta.start_pos,
            hint="write JSON_OBJECT('key', value, 'key2', value2)",
            code="QL103",
        )
    document: dict[str, Any] = {}
    for key, value in zip(items[::2], items[1::2], strict=True):
        if not isinstance(key, str):
            raise ParseError(
                "JSON_OBJECT keys must be strings",
                offset=node.meta.start_pos,
                code="QL103",
            )
        document[key] = value
    return document


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)|''", lambda m: m.group(1) or "'", body)


def _syntax_error(error: lark.exceptions.UnexpectedInput, text: str) -> ParseError:
    token = getattr(error, "token", None)
    expected = sorted(getattr(error, "expected", None) or getattr(error, "allowed", None) or [])
    if token is not None and token.type == "$END":
        offset = len(text.rstrip())
        found = "end of statement"
    else:
        offset = error.pos_in_stream if error.pos_in_stream is not None else 0
        found = repr(str(token)) if token is not None else repr(text[offset : offset + 1])
    readable = [_terminal_name(t) for t in expected if not t.startswith("__")]
    readable = [r.replace("<END-OF-FILE>", "end of statement") for r in readable]
    message = f"syntax error: unexpected {found}"
    hint = f"expected {', '.join(readable[:6])}" if readable else "check the syntax near the caret"
    word = str(token) if token is not None and token.type != "$END" else ""
    close = difflib.get_close_matches(word.upper(), KEYWORDS, n=1) if word else []
    if close and close[0] != word.upper():
        hint += f"; did you mean {close[0]}?"
    return ParseError(message, offset=offset, hint=hint, code="QL101")


_TERMINALS = {
    "NAME": "a name",
    "LPAR": "'('",
    "RPAR": "')'",
    "COMMA": "','",
    "EQUAL": "'='",
    "STRING": "a string",
    "SIGNED_NUMBER": "a number",
    "$END": "end of statement",
}


def _terminal_name(name: str) -> str:
    return _TERMINALS.get(name, name.replace("_", " ") if name.isupper() else name)
