"""The Result of one statement."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from queryleaf.plan.plans import AnyPlan


@dataclass
class Result:
    """Rows of a query, or the count of a write.

    `columns` lists the labels in order; each row is a dict with keys in that order. For
    writes `rowcount` is the number of documents inserted, matched or deleted (-1 when
    MongoDB does not report it) and `rows` is empty. `plan` is the plan that ran."""

    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    rowcount: int = -1
    plan: AnyPlan | None = None
    statement: str = ""
    warnings: list[str] = field(default_factory=list)
    # What happened, beyond the command tag (`s: created, not started here (START ...)`).
    notices: list[str] = field(default_factory=list)
    # Live queries (EMIT CHANGES): a function of the timeout giving rows as events happen.
    live: Callable[..., Iterator[dict[str, Any]]] | None = None

    @property
    def kind(self) -> str:
        """find, aggregate, insert, update, delete or explain."""
        return self.plan.kind if self.plan is not None else "none"

    @property
    def tag(self) -> str:
        """What the statement did, for command tags (`INSERT`, `CREATE EVENT_SUBSCRIPTION`)."""
        return getattr(self.plan, "tag", None) or self.kind

    @property
    def is_query(self) -> bool:
        return self.kind in {"find", "aggregate", "explain", "live"}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def scalar(self) -> Any:
        """The first column of the first row (None when there is no row)."""
        if not self.rows or not self.columns:
            return None
        return self.rows[0][self.columns[0]]
