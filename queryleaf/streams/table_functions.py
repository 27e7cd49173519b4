"""System table functions: each reads a collection the runtime maintains, through a short
pipeline prefix, so it can be used like any table (WHERE, GROUP BY, JOIN)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from queryleaf.errors import SemanticError
from queryleaf.plan.literals import Bindings, NotConstant, constant_value
from queryleaf.streams.event_columns import ACTIVE_STREAMS, DEAD_LETTERS, EVENT_LOG, SUBSCRIPTIONS

# An open stream whose owner has not written a heartbeat for this long is gone.
HEARTBEAT_SECONDS = 60


@dataclass
class TableSource:
    collection: str
    stages: list[dict[str, Any]] = field(default_factory=list)
    watched: list[str] | None = None  # CHANGE_STREAM_EVENTS('a', 'b'): the collections named


def _collections(node: exp.Anonymous, bindings: Bindings | None) -> list[str]:
    names: list[str] = []
    for argument in node.expressions:
        try:
            value = constant_value(argument, bindings)
        except NotConstant:
            value = None
        values = value if isinstance(value, list) else [value]
        for item in values:
            if not isinstance(item, str) or not item:
                raise SemanticError(
                    "CHANGE_STREAM_EVENTS takes collection names as strings",
                    node=argument,
                    hint="write CHANGE_STREAM_EVENTS('users', 'orders')",
                    code="QL304",
                )
            names.append(item)
    return names


def _change_stream_events(node: exp.Anonymous, bindings: Bindings | None) -> TableSource:
    names = _collections(node, bindings)
    stages = [{"$match": {"collection_name": {"$in": names}}}] if names else []
    return TableSource(EVENT_LOG, stages, names or None)


def _no_arguments(node: exp.Anonymous) -> None:
    if node.expressions:
        raise SemanticError(f"{node.name.upper()}() takes no arguments", node=node, code="QL304")


def _event_subscriptions(node: exp.Anonymous, bindings: Bindings | None) -> TableSource:
    _no_arguments(node)
    lag = {
        "$dateDiff": {
            "startDate": "$resume_token_timestamp",
            "endDate": "$$NOW",
            "unit": "second",
        }
    }
    return TableSource(
        SUBSCRIPTIONS,
        [{"$set": {"resume_token_lag_seconds": lag}}, {"$unset": "_id"}],
    )


def _dead_letter_events(node: exp.Anonymous, bindings: Bindings | None) -> TableSource:
    _no_arguments(node)
    return TableSource(DEAD_LETTERS)


def _active_change_streams(node: exp.Anonymous, bindings: Bindings | None) -> TableSource:
    _no_arguments(node)
    alive = {
        "$gte": [
            "$heartbeat_at",
            {
                "$dateSubtract": {
                    "startDate": "$$NOW",
                    "unit": "second",
                    "amount": HEARTBEAT_SECONDS,
                }
            },
        ]
    }
    return TableSource(ACTIVE_STREAMS, [{"$match": {"$expr": alive}}])


TABLE_FUNCTIONS = {
    "CHANGE_STREAM_EVENTS": _change_stream_events,
    "EVENT_SUBSCRIPTIONS": _event_subscriptions,
    "DEAD_LETTER_EVENTS": _dead_letter_events,
    "ACTIVE_CHANGE_STREAMS": _active_change_streams,
}


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
