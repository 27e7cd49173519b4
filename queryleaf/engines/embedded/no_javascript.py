"""No `$where` in the embedded engine. mongomock-ng evaluates a `$where` text with Python's
eval(), which escapes its empty builtins easily: any client of the engine (the local server's
included) could run code in its process. The filter is refused, at any depth (`$and`, `$nor`,
`$elemMatch`, a `$match` stage), the way a server without a JavaScript engine refuses it.
`$function` and `$accumulator` are refused by mongomock-ng itself."""

from __future__ import annotations

from typing import Any

from mongomock_ng import filtering

from .values import fail


def install() -> None:
    original = filtering._Filterer.apply

    def apply(self: Any, search_filter: Any, document: dict, user_vars: dict | None = None) -> Any:
        if isinstance(search_filter, dict) and _mentions_where(search_filter):
            fail("$where is not allowed: this engine runs no server-side JavaScript", code=2)
        return original(self, search_filter, document, user_vars=user_vars)

    filtering._Filterer.apply = apply


def _mentions_where(search_filter: dict) -> bool:
    """`$where` as a key of the filter or of a field's operators (`$elemMatch` retries its
    query as `{field: query}`); deeper levels come through `apply` again."""
    if "$where" in search_filter:
        return True
    return any(isinstance(value, dict) and "$where" in value for value in search_filter.values())
