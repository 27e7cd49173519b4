"""State shared by the parts of one statement: parameters, the CTEs in scope, the outer
query of a subquery, and a counter for unique hidden names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from queryleaf.plan.literals import Bindings
from queryleaf.plan.plans import Column


@dataclass
class QueryPipeline:
    """A query as one pipeline: run `stages` on `collection` (None: a database-level
    pipeline that starts with $documents) and read `columns` from what it returns."""

    collection: str | None
    stages: list[dict[str, Any]]
    columns: list[Column]
    notes: list[str] = field(default_factory=list)


@dataclass
class Outer:
    """The query around a subquery: `aliases` it can be named by, and `reference` which
    turns a column of it into a `$$variable` of the subquery's $lookup."""

    aliases: set[str]
    reference: Callable[[Any], Any]


@dataclass
class Counter:
    value: int = 0

    def next(self) -> int:
        self.value += 1
        return self.value - 1


@dataclass
class QueryContext:
    bindings: Bindings | None = None
    ctes: dict[str, QueryPipeline] = field(default_factory=dict)
    outer: Outer | None = None
    counter: Counter = field(default_factory=Counter)

    def nested(
        self, outer: Outer | None = None, ctes: dict[str, QueryPipeline] | None = None
    ) -> QueryContext:
        """The context of a subquery, CTE or derived table inside this one."""
        return QueryContext(
            self.bindings,
            dict(self.ctes if ctes is None else ctes),
            outer,
            self.counter,
        )
