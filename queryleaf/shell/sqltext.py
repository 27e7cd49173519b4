"""A small, forgiving SQL tokenizer for the shell: completion, safety checks and "is this
statement finished?" must work on half-typed text that no parser accepts, so they read
tokens instead of a syntax tree."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Kinds: ws, comment, string, qident (quoted identifier), word, number, param, op, punct,
# and "open" for a string/quoted identifier/comment that runs to the end of the text.
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>--[^\n]*|\#[^\n]*|/\*.*?\*/)
  | (?P<open>'(?:[^'\\]|\\.|'')*\Z|"(?:[^"]|"")*\Z|`(?:[^`]|``)*\Z|/\*.*\Z)
  | (?P<string>'(?:[^'\\]|\\.|'')*')
  | (?P<qident>"(?:[^"]|"")*"|`(?:[^`]|``)*`)
  | (?P<param>\?|:[A-Za-z_]\w*)
  | (?P<number>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)
  | (?P<word>[A-Za-z_$][\w$]*)
  | (?P<op><=|>=|<>|!=|\|\||[-+*/%=<>!])
  | (?P<punct>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)

    @property
    def upper(self) -> str:
        return self.text.upper()

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.upper() in words


def tokenize(text: str) -> list[Token]:
    return [
        Token(match.lastgroup or "punct", match.group(), match.start())
        for match in _TOKEN.finditer(text)
    ]


def code_tokens(text: str) -> list[Token]:
    """Tokens without whitespace and comments."""
    return [token for token in tokenize(text) if token.kind not in {"ws", "comment"}]


def current_statement(text: str, cursor: int) -> tuple[str, int]:
    """The statement around `cursor` (between top-level semicolons) and where it starts."""
    start, end = 0, len(text)
    for token in tokenize(text):
        if token.text == ";" and token.kind == "punct":
            if token.start < cursor:
                start = token.end
            else:
                end = token.start
                break
    return text[start:end], start


def first_keyword(statement: str) -> str:
    """The statement's first word in upper case ('' when there is none); `(SELECT ...)`
    counts as SELECT."""
    for token in code_tokens(statement):
        if token.kind == "word":
            return token.upper
        if token.text != "(":
            return ""
    return ""


def statement_complete(text: str) -> bool:
    """True when the input should run on Enter: it ends with a `;` outside strings and
    comments, is a backslash command, or is empty."""
    stripped = text.strip()
    if not stripped or stripped.startswith("\\"):
        return True
    if re.search(r"\\e\s*$", stripped):  # `SELECT ... \e` opens the editor
        return True
    tokens = code_tokens(text)
    return bool(tokens) and tokens[-1].kind == "punct" and tokens[-1].text == ";"


def unquote(token: Token) -> str:
    """A word or quoted identifier as the name it spells."""
    if token.kind == "qident":
        quote = token.text[0]
        return token.text[1:-1].replace(quote * 2, quote)
    return token.text
