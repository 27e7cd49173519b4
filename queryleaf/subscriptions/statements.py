"""EVENT_SUBSCRIPTION statements: definitions persisted in the `event_subscriptions`
collection, one document per subscription, with status and counters."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from bson import json_util

from queryleaf.errors import SemanticError, UnsupportedError
from queryleaf.parse.extensions import (
    AlterSubscription,
    ControlSubscription,
    CreateSubscription,
    DeadLetterCommand,
    DropSubscription,
    ExplainCreate,
    ExplainSubscription,
    Extension,
    ShowSubscriptions,
)
from queryleaf.plan.plans import EXTENDED_JSON, ExplainPlan
from queryleaf.result import Result
from queryleaf.subscriptions.compile_stream import StreamPlan, compile_subscription
from queryleaf.subscriptions.event_columns import SUBSCRIPTIONS, utc_now
from queryleaf.subscriptions.options import OPTIONS, validate_options

STATUS_AFTER = {"START": "active", "RESUME": "active", "STOP": "stopped", "PAUSE": "paused"}
SHOW_COLUMNS = [
    "name", "subscription_id", "service_name", "status", "watch_collections", "event_types",
    "deliver_to", "created_at",
]  # fmt: skip


@dataclass
class SubscriptionPlan:
    """An extension statement, checked and ready to run against a database."""

    statement: Extension
    text: str
    notes: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return "subscription"

    @property
    def tag(self) -> str:
        statement = self.statement
        if isinstance(statement, ControlSubscription):
            return f"{statement.action} EVENT_SUBSCRIPTION"
        if isinstance(statement, DeadLetterCommand):
            return f"{statement.action} DEAD_LETTER_EVENTS"
        verb = {
            CreateSubscription: "CREATE",
            AlterSubscription: "ALTER",
            DropSubscription: "DROP",
        }.get(type(statement), "SHOW")
        return f"{verb} EVENT_SUBSCRIPTION"

    @property
    def command(self) -> dict[str, Any]:
        return {"subscription": type(self.statement).__name__}

    def to_json(self, indent: int | None = 2) -> str:
        return json_util.dumps(self.command, json_options=EXTENDED_JSON, indent=indent)


def plan_extension(statement: Extension, text: str) -> Any:
    """Checks that need no database happen here, so errors come before anything runs."""
    if isinstance(statement, CreateSubscription):
        options = validate_options(statement.options, statement.name)
        stream = compile_subscription(options, None, _filter_offset(statement))
        return SubscriptionPlan(statement, text, notes=stream.warnings)
    if isinstance(statement, AlterSubscription):
        validate_options(statement.options, statement.name, partial=True)
        return SubscriptionPlan(statement, text)
    if isinstance(statement, ExplainCreate):
        options = validate_options(statement.create.options, statement.create.name)
        return ExplainPlan(compile_subscription(options, None, _filter_offset(statement.create)))
    return SubscriptionPlan(statement, text)


def _filter_offset(statement: CreateSubscription) -> int | None:
    option = statement.options.get("event_filter")
    return option.value_offset if option is not None else None


def run_subscription_plan(plan: SubscriptionPlan, db: Any) -> Result:
    statement = plan.statement
    store = db[SUBSCRIPTIONS]
    if isinstance(statement, CreateSubscription):
        return _create(plan, statement, db)
    if isinstance(statement, AlterSubscription):
        return _alter(plan, statement, db)
    if isinstance(statement, DropSubscription):
        deleted = store.delete_one({"_id": statement.name}).deleted_count
        if not deleted and not statement.if_exists:
            raise _missing(statement.name)
        return Result(rowcount=deleted, plan=plan)
    if isinstance(statement, ControlSubscription):
        status = STATUS_AFTER[statement.action]
        changed = store.update_one(
            {"_id": statement.name},
            {"$set": {"status": status, "status_reason": None, "updated_at": utc_now()}},
        )
        if not changed.matched_count:
            raise _missing(statement.name)
        return Result(rowcount=1, plan=plan)
    if isinstance(statement, ShowSubscriptions):
        rows = [
            {column: document.get(column) for column in SHOW_COLUMNS}
            for document in store.find({}, sort=[("_id", 1)])
        ]
        return Result(columns=list(SHOW_COLUMNS), rows=rows, rowcount=len(rows), plan=plan)
    if isinstance(statement, ExplainSubscription):
        document = store.find_one({"_id": statement.name})
        if document is None:
            raise _missing(statement.name)
        stream = compile_subscription(stored_options(document), db)
        return explain_result(stream)
    if isinstance(statement, DeadLetterCommand):
        if statement.action == "REPLAY":
            # Replay needs the connection's handlers: Connection.execute_script runs it.
            raise UnsupportedError(
                "REPLAY DEAD_LETTER_EVENTS runs through a Connection (run_sql)", code="QL208"
            )
        from queryleaf.subscriptions.dead_letters import discard

        return discard(statement, db, plan)
    raise AssertionError(type(statement).__name__)


def explain_result(stream: StreamPlan) -> Result:
    notes = "\n".join(stream.warnings) or None
    return Result(
        columns=["command", "notes"],
        rows=[{"command": stream.to_json(), "notes": notes}],
        plan=ExplainPlan(stream),  # type: ignore[arg-type]
        warnings=list(stream.warnings),
    )


def _create(plan: SubscriptionPlan, statement: CreateSubscription, db: Any) -> Result:
    store = db[SUBSCRIPTIONS]
    options = validate_options(statement.options, statement.name)
    stream = compile_subscription(options, db, _filter_offset(statement))
    existing = store.find_one({"_id": statement.name})
    if existing is not None and not statement.or_replace:
        if statement.if_not_exists:
            return Result(rowcount=0, plan=plan, warnings=[f"{statement.name} already exists"])
        raise SemanticError(
            f"event subscription {statement.name} already exists",
            hint="use CREATE OR REPLACE, ALTER EVENT_SUBSCRIPTION, or another name",
            code="QL320",
        )
    clash = store.find_one(
        {"subscription_id": options["subscription_id"], "_id": {"$ne": statement.name}}
    )
    if clash is not None:
        raise SemanticError(
            f"subscription_id {options['subscription_id']!r} is already used by {clash['_id']}",
            hint="subscription ids identify events in the log; give each its own",
            code="QL321",
        )
    now = utc_now()
    document = _document(statement.name, options, stream, plan.text)
    if existing is None:
        document.update(_fresh_state(now))
        store.insert_one(document)
    else:
        # A replaced definition keeps its position and counters: it continues where it was.
        document["updated_at"] = now
        store.update_one({"_id": statement.name}, {"$set": document})
    return Result(rowcount=1, plan=plan, warnings=list(stream.warnings))


def _alter(plan: SubscriptionPlan, statement: AlterSubscription, db: Any) -> Result:
    store = db[SUBSCRIPTIONS]
    document = store.find_one({"_id": statement.name})
    if document is None:
        raise _missing(statement.name)
    changes = validate_options(statement.options, statement.name, partial=True)
    options = {**stored_options(document), **changes}
    stream = compile_subscription(options, db)
    updated = _document(statement.name, options, stream, document.get("definition", ""))
    updated["updated_at"] = utc_now()
    store.update_one({"_id": statement.name}, {"$set": updated})
    return Result(rowcount=1, plan=plan, warnings=list(stream.warnings))


def _document(name: str, options: dict[str, Any], stream: StreamPlan, text: str) -> dict[str, Any]:
    document: dict[str, Any] = {"_id": name, "name": name}
    for key, value in options.items():
        document[key] = value
    # Query operators are not safe as stored field names: keep the filter as Extended JSON.
    event_filter = options.get("event_filter")
    document["event_filter"] = (
        json_util.dumps(event_filter, json_options=EXTENDED_JSON)
        if isinstance(event_filter, dict)
        else event_filter
    )
    document["event_filter_kind"] = (
        "query" if isinstance(event_filter, dict) else "sql" if event_filter else None
    )
    document["stream_target"] = stream.collection or "*"
    document["stream_pipeline"] = json_util.dumps(stream.pipeline, json_options=EXTENDED_JSON)
    document["warnings"] = list(stream.warnings)
    document["definition"] = text
    return document


def _fresh_state(now: dt.datetime) -> dict[str, Any]:
    return {
        "status": "active",
        "status_reason": None,
        "created_at": now,
        "updated_at": now,
        "resume_token": None,
        "resume_token_timestamp": None,
        "events_received": 0,
        "events_delivered": 0,
        "events_skipped": 0,
        "events_retried": 0,
        "events_dead_lettered": 0,
        "events_replayed": 0,  # REPLAY DEAD_LETTER_EVENTS adds to it
        "last_error": None,
        "last_event_at": None,
    }


def stored_options(document: dict[str, Any]) -> dict[str, Any]:
    """The validated options of a stored subscription."""
    options = {key: document.get(key, spec.default) for key, spec in OPTIONS.items()}
    if document.get("event_filter_kind") == "query":
        options["event_filter"] = json_util.loads(document["event_filter"])
    return options


def _missing(name: str) -> SemanticError:
    return SemanticError(
        f"event subscription {name} does not exist",
        hint="SHOW EVENT_SUBSCRIPTIONS lists them",
        code="QL322",
    )
