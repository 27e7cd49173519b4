"""Live queries: `SELECT ... FROM CHANGE_STREAM_EVENTS(...) [WHERE ...] EMIT CHANGES [LIMIT n]`
compiles to a change stream whose pipeline carries the WHERE as $match and the columns as
$project; rows arrive as events happen."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp
from sqlglot.tokens import TokenType

from queryleaf.errors import SemanticError, UnsupportedError
from queryleaf.plan import mql
from queryleaf.plan.literals import Bindings, NotConstant, constant_value
from queryleaf.plan.paths import label_of, reference_parts
from queryleaf.plan.plans import OutputColumn
from queryleaf.subscriptions.compile_stream import StreamPlan
from queryleaf.subscriptions.event_columns import EVENT_COLUMNS, SYSTEM_COLLECTIONS
from queryleaf.subscriptions.sql_filter import LiveColumns, live_filter

EMIT = re.compile(r"\bEMIT\s+CHANGES\b", re.IGNORECASE)


def find_emit_changes(text: str) -> tuple[int, int] | None:
    """The span of a top-level `EMIT CHANGES` (outside strings and comments), if any."""
    if not EMIT.search(text):
        return None
    from sqlglot.dialects.mysql import MySQL

    tokens = MySQL().tokenize(text)
    for first, second in itertools.pairwise(tokens):
        if (
            first.text.upper() == "EMIT"
            and second.text.upper() == "CHANGES"
            and first.token_type not in {TokenType.STRING}
        ):
            return first.start, second.end + 1
    return None


@dataclass
class LivePlan:
    stream: StreamPlan
    columns: list[OutputColumn]
    limit: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return "live"

    @property
    def command(self) -> dict[str, Any]:
        return self.stream.command

    def to_json(self, indent: int | None = 2) -> str:
        return self.stream.to_json(indent)


def plan_live(select: exp.Select, bindings: Bindings | None) -> LivePlan:
    for clause, name in [
        ("joins", "JOIN"),
        ("group", "GROUP BY"),
        ("having", "HAVING"),
        ("order", "ORDER BY"),
        ("offset", "OFFSET"),
        ("distinct", "DISTINCT"),
        ("with", "WITH"),
    ]:
        if select.args.get(clause):
            raise UnsupportedError(
                f"{name} is not supported in a live query (EMIT CHANGES)",
                node=select.args[clause]
                if isinstance(select.args[clause], exp.Expression)
                else select,
                hint="live rows arrive one event at a time in commit order; query the event "
                "log (CHANGE_STREAM_EVENTS() without EMIT CHANGES) to aggregate",
                code="QL209",
            )
    from_ = select.args.get("from_") or select.args.get("from")
    source = from_.this if from_ is not None else None
    if not (
        isinstance(source, exp.Table)
        and isinstance(source.this, exp.Anonymous)
        and source.this.name.upper() == "CHANGE_STREAM_EVENTS"
    ):
        raise SemanticError(
            "EMIT CHANGES reads FROM CHANGE_STREAM_EVENTS(...)",
            node=source if source is not None else select,
            hint="write SELECT ... FROM CHANGE_STREAM_EVENTS('coll') WHERE ... EMIT CHANGES",
            code="QL330",
        )
    from queryleaf.subscriptions.table_functions import _collections

    collections = _collections(source.this, bindings)
    qualifiers = {source.alias or "change_stream_events"}
    columns = LiveColumns(qualifiers=qualifiers)
    conditions: list[dict[str, Any]] = []
    if len(collections) > 1:
        conditions.append({"ns.coll": {"$in": collections}})
    elif not collections:
        conditions.append({"ns.coll": {"$nin": SYSTEM_COLLECTIONS}})
    where = select.args.get("where")
    if where is not None:
        query = live_filter(where.this, columns, bindings)
        if query:
            conditions.append(query)
    projection, outputs = _projection(select, columns)
    pipeline: list[dict[str, Any]] = []
    if conditions:
        match = conditions[0] if len(conditions) == 1 else {"$and": conditions}
        pipeline.append({"$match": match})
    pipeline.append({"$project": projection})
    stream = StreamPlan(
        collection=collections[0] if len(collections) == 1 else None,
        pipeline=pipeline,
        options={"fullDocument": "updateLookup"},
        watched=collections or None,
    )
    return LivePlan(stream, outputs, _limit(select, bindings))


def _projection(
    select: exp.Select, columns: LiveColumns
) -> tuple[dict[str, Any], list[OutputColumn]]:
    """Computed columns beside the event's _id (MongoDB requires the resume token kept)."""
    projection: dict[str, Any] = {"_id": 1}
    outputs: list[OutputColumn] = []
    entries: list[tuple[str, exp.Expression]] = []
    for node in select.expressions:
        if isinstance(node, exp.Star):
            entries += [(name, exp.column(name)) for name in EVENT_COLUMNS]
        elif isinstance(node, exp.Alias):
            entries.append((node.alias, node.this))
        elif reference_parts(node) is not None:
            parts = reference_parts(node) or []
            if len(parts) > 1 and parts[0] in columns.qualifiers:
                parts = parts[1:]
            entries.append((label_of(tuple(parts)), node))
        else:
            entries.append((node.sql("mysql"), node))
    from queryleaf.plan.expressions import ExprCompiler

    compiler = ExprCompiler(columns.value)
    for index, (label, node) in enumerate(entries):
        field = f"c{index}"
        projection[field] = mql.projected(compiler.value(node))
        outputs.append(OutputColumn(label, (field,)))
    return projection, outputs


def _limit(select: exp.Select, bindings: Bindings | None) -> int | None:
    limit = select.args.get("limit")
    if limit is None:
        return None
    try:
        value = constant_value(limit.expression, bindings)
    except NotConstant:
        value = None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise SemanticError(
            "LIMIT of a live query takes a positive integer", node=limit, code="QL304"
        )
    return value
