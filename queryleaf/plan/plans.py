"""Plans are inert data: the exact MongoDB command documents a statement runs, plus how to
turn the documents they return into labelled rows. A plan can be printed (EXPLAIN), compared
in a test, cached and run later."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bson import json_util
from bson.json_util import JSONMode, JSONOptions

Path = tuple[str | int, ...]

EXTENDED_JSON = JSONOptions(json_mode=JSONMode.RELAXED, tz_aware=True)


@dataclass(frozen=True)
class OutputColumn:
    """One labelled column, read from `path` in each returned document."""

    label: str
    path: Path


@dataclass(frozen=True)
class StarColumns:
    """`*` or `alias.*`: every field of the document found at `path` (the root for the
    first relation, the embedded joined document for the others). Fields whose names start
    with `hidden_prefix` are queryleaf's own and are skipped."""

    path: Path = ()
    hidden_prefix: str = "__"
    qualifier: str | None = None


Column = OutputColumn | StarColumns


@dataclass
class Plan:
    """A statement compiled to MongoDB commands.

    `command` is what runs, in MongoDB's command shape: {"find": ...}, {"aggregate": ...},
    {"insert": ...}, {"update": ...} or {"delete": ...}. `columns` says how returned
    documents become rows (None for writes). `notes` name anything done client-side and why,
    and warnings about the statement; EXPLAIN prints both."""

    command: dict[str, Any]
    columns: list[Column] | None = None
    notes: list[str] = field(default_factory=list)
    # For a write run as a pipeline (INSERT ... SELECT ending in $merge, which reports no
    # count): an aggregate command that counts the rows it writes, run first.
    count_command: dict[str, Any] | None = None

    @property
    def kind(self) -> str:
        return next(iter(self.command))

    @property
    def collection(self) -> str | None:
        target = self.command[self.kind]
        return target if isinstance(target, str) else None

    def to_json(self, indent: int | None = 2) -> str:
        return json_util.dumps(self.command, json_options=EXTENDED_JSON, indent=indent)


@dataclass
class ExplainPlan:
    """EXPLAIN <statement>: shows the inner plan's commands without running them."""

    inner: Plan

    @property
    def kind(self) -> str:
        return "explain"


AnyPlan = Plan | ExplainPlan
