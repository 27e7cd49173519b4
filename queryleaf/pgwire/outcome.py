"""What a statement gives the protocol layer (an Outcome), what runs statements (a Backend),
and the errors the protocol layer itself raises with their SQLSTATE."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class Outcome:
    """What one statement produced: rows (an iterator, consumed lazily by Execute) described by
    `fields` (name, type oid), or a command tag only."""

    tag: str = ""
    columns: list[tuple[str, int]] | None = None
    rows: Iterator[Sequence[Any]] | None = None
    notices: list[str] = field(default_factory=list)
    empty: bool = False  # an empty query string
    row_count_tag: str | None = None  # "SELECT" or "FETCH": tag prefix counted while sending
    live: bool = False  # rows arrive over time: each is flushed to the client at once
    parameters: dict[str, str] = field(default_factory=dict)  # ParameterStatus to report


class Backend(Protocol):
    """What the session needs from whatever runs statements."""

    def parameter_types(self, sql: str, given: list[int]) -> list[int]: ...

    def describe(self, sql: str, oids: list[int]) -> list[tuple[str, int]] | None: ...

    def execute(self, sql: str, params: list[Any] | None) -> Iterator[Outcome]: ...

    def transaction_status(self) -> str: ...


class Cancelled(Exception):
    sqlstate = "57014"

    def __init__(self) -> None:
        super().__init__("canceling statement due to user request")


class PgError(Exception):
    """An error with its SQLSTATE, for what the protocol layer itself refuses."""

    def __init__(self, sqlstate: str, message: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate
