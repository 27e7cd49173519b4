"""System table functions: each reads a collection the runtime maintains, through a short
pipeline prefix, so it can be used like any table (WHERE, GROUP BY, JOIN)."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from queryleaf.errors import SemanticError
from queryleaf.plan.literals import Bindings, NotConstant, constant_value
from queryleaf.plan.table_sources import TableSource, register_table_functions
from queryleaf.subscriptions.event_columns import (
    ACTIVE_STREAMS,
    DEAD_LETTERS,
    EVENT_LOG,
    LEASES,
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
        [
            {"$set": {"resume_token_lag_seconds": lag}},
            *_running_stages(),
            {"$unset": ["_id", "__streams", "__leases"]},
        ],
    )


def _running_stages() -> list[dict[str, Any]]:
    """`running` (a stream delivering the subscription is open somewhere: a live row in
    active_change_streams names it) and `running_on` (`host:pid` of that process, with
    ` (worker)` when it runs under a lease, as `queryleaf worker` runs it), beside the
    declared `status`, which only says whether it should run."""
    streams = {
        "$lookup": {
            "from": ACTIVE_STREAMS,
            "let": {"name": "$name"},
            "pipeline": [
                {
                    "$match": {
                        "$expr": {
                            "$and": [
                                {"$in": ["$$name", {"$ifNull": ["$subscriptions", []]}]},
                                _alive(),
                            ]
                        }
                    }
                },
                {"$project": {"_id": 0, "owner": 1}},
            ],
            "as": "__streams",
        }
    }
    leases = {
        "$lookup": {
            "from": LEASES,
            "let": {"name": "$name"},
            "pipeline": [
                {
                    "$match": {
                        "$expr": {
                            "$and": [
                                {"$eq": ["$_id", "$$name"]},
                                {"$gt": ["$expires_at", "$$NOW"]},
                            ]
                        }
                    }
                },
                {"$project": {"_id": 0, "owner": 1}},
            ],
            "as": "__leases",
        }
    }
    running = {"$gt": [{"$size": "$__streams"}, 0]}
    lease_owner = {"$split": [{"$arrayElemAt": ["$__leases.owner", 0]}, ":"]}
    worker = {
        "$concat": [
            {"$arrayElemAt": [lease_owner, 0]},
            ":",
            {"$arrayElemAt": [lease_owner, 1]},
            " (worker)",
        ]
    }
    where = {
        "$cond": [
            {"$gt": [{"$size": "$__leases"}, 0]},
            worker,
            {"$arrayElemAt": ["$__streams.owner", 0]},
        ]
    }
    return [
        streams,
        leases,
        {"$set": {"running": running, "running_on": {"$cond": [running, where, None]}}},
    ]


def _dead_letter_events(node: exp.Anonymous, bindings: Bindings | None) -> TableSource:
    _no_arguments(node)
    return TableSource(DEAD_LETTERS)


def _alive() -> dict[str, Any]:
    """True for an active_change_streams row whose owner beat in the last HEARTBEAT_SECONDS."""
    return {
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


def _active_change_streams(node: exp.Anonymous, bindings: Bindings | None) -> TableSource:
    _no_arguments(node)
    return TableSource(ACTIVE_STREAMS, [{"$match": {"$expr": _alive()}}])


register_table_functions(
    {
        "CHANGE_STREAM_EVENTS": _change_stream_events,
        "EVENT_SUBSCRIPTIONS": _event_subscriptions,
        "DEAD_LETTER_EVENTS": _dead_letter_events,
        "ACTIVE_CHANGE_STREAMS": _active_change_streams,
    }
)
