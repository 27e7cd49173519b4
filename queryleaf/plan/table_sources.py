"""Table functions in FROM (`FROM CHANGE_STREAM_EVENTS('orders')`): the planner knows only this
registry. The rooms that define table functions (queryleaf.subscriptions) register them when
they are imported, which `import queryleaf` does, so planning never imports a room above it."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from queryleaf.errors import SemanticError
from queryleaf.plan.literals import Bindings


@dataclass
class TableSource:
    """What a table function reads: a collection through a short pipeline prefix."""

    collection: str
    stages: list[dict[str, Any]] = field(default_factory=list)
    watched: list[str] | None = None  # CHANGE_STREAM_EVENTS('a', 'b'): the collections named


TableFunction = Callable[[exp.Anonymous, Bindings | None], TableSource]

TABLE_FUNCTIONS: dict[str, TableFunction] = {}


def register_table_functions(functions: dict[str, TableFunction]) -> None:
    TABLE_FUNCTIONS.update(functions)


def table_function(node: exp.Anonymous, bindings: Bindings | None) -> TableSource:
    name = node.name.upper()
    build = TABLE_FUNCTIONS.get(name)
    if build is None:
        close = difflib.get_close_matches(name, list(TABLE_FUNCTIONS), n=1)
        raise SemanticError(
            f"unknown table function {name}()",
            node=node,
            hint=f"did you mean {close[0]}()?"
            if close
            else "table functions: " + ", ".join(f"{n}()" for n in TABLE_FUNCTIONS),
            code="QL302",
        )
    return build(node, bindings)
