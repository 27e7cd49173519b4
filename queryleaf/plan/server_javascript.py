"""No server-side JavaScript reaches MongoDB: `$where`, `$function` and `$accumulator` run
JavaScript inside the server, so raw MQL a user passes through (an event_filter as JSON or
text, a table validator, anything else) is scanned, at every depth, and refused (QL318).
Values inside `$literal` are data, not operators, and are not scanned."""

from __future__ import annotations

from typing import Any

from bson.code import Code

from queryleaf.errors import SemanticError

SERVER_JAVASCRIPT = frozenset({"$where", "$function", "$accumulator"})


def find_server_javascript(value: Any, *, code_values: bool = True) -> str | None:
    """The first JavaScript operator anywhere in `value` (`$code` for a Code value, unless
    `code_values` is off: stored Code is data to a server that never runs it), or None;
    iterative, so it has no depth limit of its own."""
    stack = [value]
    while stack:
        current = stack.pop()
        if code_values and isinstance(current, Code):
            return "$code"
        if isinstance(current, dict):
            for key, inner in current.items():
                if key in SERVER_JAVASCRIPT:
                    return key
                if key != "$literal":
                    stack.append(inner)
        elif isinstance(current, list | tuple):
            stack.extend(current)
    return None


def refuse_server_javascript(value: Any, where: str, offset: int | None = None) -> None:
    """Raise QL318 if `value` holds a JavaScript operator anywhere."""
    found = find_server_javascript(value)
    if found is not None:
        raise _refused("JavaScript code ($code)" if found == "$code" else found, where, offset)


def _refused(what: str, where: str, offset: int | None) -> SemanticError:
    return SemanticError(
        f"{what} runs JavaScript on the server and is never sent ({where})",
        offset=offset,
        hint="express the condition with query or aggregation operators "
        "($expr, $regexMatch, $reduce, ...) or in SQL",
        code="QL318",
    )
