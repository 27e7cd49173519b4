"""Error classes. Every user-facing error has a stable code (catalogued in docs/errors.md),
a message naming the construct and the fix, and, when it comes from SQL text, a position
with a caret excerpt."""

from __future__ import annotations

from typing import Any


class QueryLeafError(Exception):
    """Base class of every error queryleaf raises on purpose."""

    code = "QL000"

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        node: Any = None,
        offset: int | None = None,
        code: str | None = None,
        positional: bool = True,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code:
            self.code = code
        # A sqlglot node or an offset into the statement, resolved to line/column later.
        self.node = node
        self.offset = offset
        self.line: int | None = None
        self.column: int | None = None
        self.excerpt: str | None = None
        self.source_name: str | None = None
        # False for errors the SQL text is not the cause of (a server that cannot be
        # reached): they get no line, column or caret.
        self.positional = positional

    def locate(self, text: str, base_offset: int = 0, source_name: str | None = None) -> None:
        """Fix line, column and excerpt from the script `text`; `base_offset` is where the
        statement starts in it. Positions already fixed are kept."""
        if self.source_name is None:
            self.source_name = source_name
        if self.line is not None or not self.positional:
            return
        offset = self.offset
        if offset is None and self.node is not None:
            offset = node_offset(self.node)
        if offset is None:
            offset = 0
            # Without a better position the statement start is still useful.
        absolute = base_offset + offset
        self.line, self.column, self.excerpt = caret_excerpt(text, absolute)

    def position(self) -> str:
        if self.line is None:
            return ""
        where = f"{self.source_name}:" if self.source_name else "line "
        if self.source_name:
            return f"{where}{self.line}:{self.column}"
        return f"line {self.line}, column {self.column}"

    def __str__(self) -> str:
        text = f"[{self.code}] {self.message}"
        if self.line is not None:
            text += f" ({self.position()})"
        if self.excerpt:
            text += "\n" + self.excerpt
        if self.hint:
            text += f"\nhint: {self.hint}"
        return text


class ParseError(QueryLeafError):
    """The text is not valid SQL for the dialect."""

    code = "QL100"


class UnsupportedError(QueryLeafError):
    """Valid SQL that queryleaf does not translate (yet). Raised before any data is touched."""

    code = "QL200"


class SemanticError(QueryLeafError):
    """The SQL parses but means something that cannot run: unknown names, ambiguous columns,
    grouping mistakes, wrong argument counts."""

    code = "QL300"


class ParameterError(QueryLeafError):
    """A placeholder has no value, or a value cannot be bound."""

    code = "QL400"


class ExecutionError(QueryLeafError):
    """MongoDB (or the embedded engine) refused or failed a command."""

    code = "QL500"


class BackendError(QueryLeafError):
    """The backend cannot be reached or the URI is wrong."""

    code = "QL600"


def node_offset(node: Any) -> int | None:
    """The start offset of a sqlglot node in its statement, from the token metadata that
    sqlglot keeps on identifiers, literals and function names."""
    seen = [node]
    while seen:
        current = seen.pop(0)
        meta = getattr(current, "_meta", None) or {}
        if "start" in meta:
            return int(meta["start"])
        if hasattr(current, "iter_expressions"):
            seen.extend(current.iter_expressions())
    return None


def caret_excerpt(text: str, offset: int) -> tuple[int, int, str]:
    """Line and column (1-based) of `offset` in `text`, with the line and a caret under it."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    if line_end == -1:
        line_end = len(text)
    column = offset - line_start + 1
    source_line = text[line_start:line_end].rstrip("\r")
    shown, caret_at = _window(source_line, column - 1)
    prefix = f"  {line} | "
    caret = " " * (len(prefix) + caret_at) + "^"
    return line, column, f"{prefix}{shown}\n{caret}"


EXCERPT_WIDTH = 100


def _window(source_line: str, index: int) -> tuple[str, int]:
    """A long line cut to about EXCERPT_WIDTH characters around `index`, with ellipses."""
    if len(source_line) <= EXCERPT_WIDTH:
        return source_line, index
    start = max(0, min(index - EXCERPT_WIDTH // 2, len(source_line) - EXCERPT_WIDTH))
    end = start + EXCERPT_WIDTH
    shown = source_line[start:end]
    caret_at = index - start
    if start > 0:
        shown = "..." + shown
        caret_at += 3
    if end < len(source_line):
        shown += "..."
    return shown, caret_at
