"""Subscription options and live queries to a change stream: the watch target, the
`$changeStream` options and a pipeline made only of stages MongoDB allows after it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from bson import json_util

from queryleaf.errors import SemanticError
from queryleaf.plan.plans import EXTENDED_JSON
from queryleaf.subscriptions.event_columns import SYSTEM_COLLECTIONS
from queryleaf.subscriptions.event_filter import (
    check_filter,
    full_document_paths,
    matched_operation_types,
)
from queryleaf.subscriptions.options import EVENT_TYPES

ALLOWED_STAGES = {
    "$match", "$project", "$addFields", "$set", "$unset", "$replaceRoot", "$replaceWith",
    "$redact",
}  # fmt: skip


@dataclass
class StreamPlan:
    """What a subscription or live query watches, and how."""

    collection: str | None  # None: the whole database
    pipeline: list[dict[str, Any]]
    options: dict[str, Any]  # $changeStream options (fullDocument, startAtOperationTime, ...)
    watched: list[str] | None = None  # collections, when several share a database stream
    warnings: list[str] = field(default_factory=list)
    batch_size: int | None = None

    @property
    def kind(self) -> str:
        return "watch"

    @property
    def notes(self) -> list[str]:
        return self.warnings

    @property
    def command(self) -> dict[str, Any]:
        """The aggregate command a driver sends for this watch()."""
        stage = {"$changeStream": dict(self.options)}
        command: dict[str, Any] = {
            "aggregate": self.collection if self.collection is not None else 1,
            "pipeline": [stage, *self.pipeline],
            "cursor": {"batchSize": self.batch_size} if self.batch_size else {},
        }
        return command

    def watch_kwargs(self) -> dict[str, Any]:
        """Arguments for pymongo's watch()."""
        kwargs: dict[str, Any] = {"pipeline": self.pipeline}
        names = {
            "fullDocument": "full_document",
            "fullDocumentBeforeChange": "full_document_before_change",
            "startAtOperationTime": "start_at_operation_time",
            "resumeAfter": "resume_after",
            "startAfter": "start_after",
        }
        for key, value in self.options.items():
            kwargs[names[key]] = value
        if self.batch_size:
            kwargs["batch_size"] = self.batch_size
        return kwargs

    def to_json(self, indent: int | None = 2) -> str:
        return json_util.dumps(self.command, json_options=EXTENDED_JSON, indent=indent)


def compile_subscription(
    options: dict[str, Any], db: Any = None, filter_offset: int | None = None
) -> StreamPlan:
    """The change stream for validated subscription options. `db`, when given, is used to
    check that pre-images are enabled where they are asked for."""
    warnings: list[str] = []
    watched = options["watch_collections"]
    collections = None if watched == "*" else list(watched)
    conditions: list[dict[str, Any]] = []
    if collections is not None and len(collections) > 1:
        conditions.append({"ns.coll": {"$in": collections}})
    elif collections is None:
        conditions.append({"ns.coll": {"$nin": SYSTEM_COLLECTIONS}})
    types = list(options["event_types"])
    if set(types) != set(EVENT_TYPES):
        conditions.append({"operationType": {"$in": types}})
    event_filter = options.get("event_filter")
    if isinstance(event_filter, dict):
        checked = check_filter(event_filter, filter_offset)
        warnings += checked.warnings
        if checked.query:
            conditions.append(checked.query)
        warnings += _filter_warnings(checked.query, types)
    elif isinstance(event_filter, str):
        from queryleaf.subscriptions.sql_filter import sql_event_filter

        query = sql_event_filter(event_filter, options, filter_offset)
        if query:
            conditions.append(query)
            warnings += _filter_warnings(query, types)
    stream_options = _stream_options(options)
    if db is not None and options["full_document_before_change"] != "off":
        warnings += _pre_image_warnings(db, collections, options["full_document_before_change"])
    pipeline = [{"$match": _conjunction(conditions)}] if conditions else []
    single = collections[0] if collections is not None and len(collections) == 1 else None
    return StreamPlan(
        collection=single,
        pipeline=pipeline,
        options=stream_options,
        watched=collections,
        warnings=warnings,
        batch_size=options.get("batch_size"),
    )


def _conjunction(conditions: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    rest: list[dict[str, Any]] = []
    for condition in conditions:
        if any(key in merged for key in condition):
            rest.append(condition)
        else:
            merged.update(condition)
    if not rest:
        return merged
    return {"$and": [merged, *rest]}


def _stream_options(options: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if options["full_document"] != "default":
        result["fullDocument"] = options["full_document"]
    if options["full_document_before_change"] != "off":
        result["fullDocumentBeforeChange"] = options["full_document_before_change"]
    start = options.get("start_at", "now")
    if isinstance(start, dict):
        result["startAfter"] = start
    elif isinstance(start, str) and start.startswith("token:"):
        result["startAfter"] = {"_data": start[len("token:") :]}
    elif isinstance(start, str) and start != "now":
        from bson import Timestamp

        when = dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        result["startAtOperationTime"] = Timestamp(int(when.timestamp()), 0)
    return result


def _filter_warnings(query: dict[str, Any], types: list[str]) -> list[str]:
    warnings = []
    possible = matched_operation_types(query, set(EVENT_TYPES))
    excluded = [t for t in types if t not in possible]
    if excluded:
        warnings.append(
            "event_filter never matches "
            + ", ".join(excluded)
            + " events, which event_types asks for"
        )
    if "delete" in types and "delete" in possible:
        paths = full_document_paths(query)
        if paths:
            warnings.append(
                "event_filter requires "
                + ", ".join(paths)
                + ", but delete events have no fullDocument: they never match"
            )
    return warnings


def _pre_image_warnings(db: Any, collections: list[str] | None, mode: str) -> list[str]:
    try:
        infos = {info["name"]: info for info in db.list_collections()}
    except Exception:
        return []
    names = collections if collections is not None else sorted(infos)
    lacking = []
    for name in names:
        info = infos.get(name, {})
        enabled = info.get("options", {}).get("changeStreamPreAndPostImages", {}).get("enabled")
        if not enabled:
            lacking.append(name)
    if not lacking:
        return []
    effect = "events fail" if mode == "required" else "fullDocumentBeforeChange is missing"
    return [
        f"full_document_before_change = '{mode}' needs changeStreamPreAndPostImages on "
        + ", ".join(lacking)
        + f"; until it is enabled {effect} (enable with collMod: "
        "changeStreamPreAndPostImages: {enabled: true})"
    ]


def check_pipeline(pipeline: list[dict[str, Any]]) -> None:
    """Reject stages MongoDB does not allow after $changeStream, and any change of _id."""
    for stage in pipeline:
        (name,) = stage
        if name not in ALLOWED_STAGES:
            raise SemanticError(
                f"{name} is not allowed in a change stream pipeline",
                hint="use " + ", ".join(sorted(ALLOWED_STAGES)),
                code="QL313",
            )
