"""System table functions: each reads a collection the runtime maintains, through a short
pipeline prefix, so it can be used like any table (WHERE, GROUP BY, JOIN)."""

from __future__ import annotations

from sqlglot import exp

from queryleaf.errors import SemanticError
from queryleaf.plan.literals import Bindings, NotConstant, constant_value
from queryleaf.plan.table_sources import TableSource, register_table_functions
from queryleaf.subscriptions.event_columns import (
    ACTIVE_STREAMS,
    DEAD_LETTERS,
    EVENT_LOG,
    SUBSCRIPTIONS,
)

# An open stream whose owner has not written a heartbeat for this long is gone.
HEARTBEAT_SECONDS = 60


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


register_table_functions(
    {
        "CHANGE_STREAM_EVENTS": _change_stream_events,
        "EVENT_SUBSCRIPTIONS": _event_subscriptions,
        "DEAD_LETTER_EVENTS": _dead_letter_events,
        "ACTIVE_CHANGE_STREAMS": _active_change_streams,
    }
)
