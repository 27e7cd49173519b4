"""EVENT_SUBSCRIPTION options: names, types, ranges and defaults. Unknown options are
rejected with the nearest known name."""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from queryleaf.errors import SemanticError
from queryleaf.parse.extensions import OptionValue

EVENT_TYPES = (
    "insert",
    "update",
    "replace",
    "delete",
    "drop",
    "rename",
    "dropDatabase",
    "invalidate",
)
FULL_DOCUMENT = ("default", "updateLookup", "whenAvailable", "required")
BEFORE_CHANGE = ("off", "whenAvailable", "required")
TARGET_PREFIXES = ("log", "log:", "handler:", "collection:", "http://", "https://")


@dataclass(frozen=True)
class OptionSpec:
    name: str
    kind: str  # text shown in errors: "string", "boolean", "integer", ...
    default: Any
    check: Callable[[Any], str | None]  # None when valid, else what is wrong
    help: str


def _string(value: Any) -> str | None:
    return None if isinstance(value, str) and value != "" else "must be a non-empty string"


def _optional_string(value: Any) -> str | None:
    return None if value is None or isinstance(value, str) else "must be a string"


def _optional_path(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value or value.startswith("$") or ".." in value:
        return "must be a field path such as 'correlation.id'"
    return None


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be TRUE or FALSE"


def _optional(check: Callable[[Any], str | None]) -> Callable[[Any], str | None]:
    return lambda value: None if value is None else check(value)


def _integer(low: int, high: int) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"must be an integer from {low} to {high}"
        if not low <= value <= high:
            return f"must be from {low} to {high}, not {value}"
        return None

    return check


def _choice(choices: tuple[str, ...]) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value in choices:
            return None
        close = difflib.get_close_matches(str(value), choices, n=1)
        suffix = f" (did you mean '{close[0]}'?)" if close else ""
        return f"must be one of {', '.join(repr(c) for c in choices)}{suffix}"

    return check


def _collections(value: Any) -> str | None:
    if value == "*":
        return None
    if not isinstance(value, list) or not value:
        return "must be JSON_ARRAY('coll', ...) with at least one collection, or '*' for the whole database"
    for item in value:
        if not isinstance(item, str) or not item or item.startswith("$") or "\x00" in item:
            return f"has an invalid collection name {item!r}"
    if len(set(value)) != len(value):
        return "names a collection twice"
    return None


def _event_types(value: Any) -> str | None:
    if not isinstance(value, list) or not value:
        return "must be JSON_ARRAY of event types"
    for item in value:
        if item not in EVENT_TYPES:
            close = difflib.get_close_matches(str(item), EVENT_TYPES, n=1)
            suffix = f" (did you mean '{close[0]}'?)" if close else ""
            return f"has unknown event type {item!r}{suffix}; known: {', '.join(EVENT_TYPES)}"
    return None


def _event_filter(value: Any) -> str | None:
    if value is None or isinstance(value, dict | str):
        return None
    return "must be JSON_OBJECT(...) (a query over the change event) or a SQL condition string"


def _target(value: Any) -> str | None:
    if not isinstance(value, str) or not value.startswith(TARGET_PREFIXES):
        return (
            "must be 'log', 'log:FILE', 'handler:NAME', 'collection:NAME', "
            "'collection:DB.NAME' or an http(s):// URL"
        )
    if value.startswith(("handler:", "collection:", "log:")) and not value.split(":", 1)[1]:
        return "needs a name after the colon"
    return None


def _start_at(value: Any) -> str | None:
    if value == "now" or isinstance(value, dict):
        return None
    if isinstance(value, str):
        if value.startswith("token:") and len(value) > len("token:"):
            return None
        try:
            dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return None
        except ValueError:
            pass
    return "must be 'now', an ISO timestamp, 'token:<hex>' or a JSON_OBJECT resume token"


OPTIONS: dict[str, OptionSpec] = {
    spec.name: spec
    for spec in [
        OptionSpec("subscription_id", "string", None, _string, "id used in the event log; defaults to the subscription's name"),
        OptionSpec("service_name", "string", None, _optional_string, "the consuming service"),
        OptionSpec("watch_collections", "collections", "*", _collections, "collections to watch, or '*' for the whole database"),
        OptionSpec("event_types", "event types", ["insert", "update", "replace", "delete"], _event_types, "operation types delivered"),
        OptionSpec("event_filter", "filter", None, _event_filter, "JSON_OBJECT query over the change event, or a SQL condition over CHANGE_STREAM_EVENTS() columns"),
        OptionSpec("batch_processing", "boolean", False, _boolean, "deliver lists of up to batch_size events"),
        OptionSpec("preserve_order", "boolean", True, _boolean, "deliver one event at a time in stream order"),
        OptionSpec("full_document", "choice", "updateLookup", _choice(FULL_DOCUMENT), "fullDocument for update events"),
        OptionSpec("full_document_before_change", "choice", "off", _choice(BEFORE_CHANGE), "pre-images (needs changeStreamPreAndPostImages)"),
        OptionSpec("max_retry_attempts", "integer", 3, _integer(0, 100), "retries after the first failed delivery"),
        OptionSpec("retry_delay_ms", "integer", 1000, _integer(0, 3_600_000), "delay before the first retry"),
        OptionSpec("exponential_backoff", "boolean", True, _boolean, "double the delay on each retry, with jitter"),
        OptionSpec("dead_letter_queue_enabled", "boolean", True, _boolean, "keep events that exhaust their retries"),
        OptionSpec("batch_size", "integer", 100, _integer(1, 10_000), "events per batch"),
        OptionSpec("processing_timeout_ms", "integer", None, _optional(_integer(1, 3_600_000)), "time allowed for one delivery: webhooks default to 30000; Python handlers run without a deadline unless it is set"),
        OptionSpec("created_by", "string", None, _optional_string, "who created the subscription"),
        OptionSpec("description", "string", None, _optional_string, "free text"),
        OptionSpec("deliver_to", "target", "log", _target, "where events go"),
        OptionSpec("start_at", "position", "now", _start_at, "where a new subscription starts reading"),
        OptionSpec("correlation_id_field", "path", None, _optional_path, "document field giving the event log's correlation_id"),
        OptionSpec("business_process_id_field", "path", None, _optional_path, "document field giving business_process_id"),
        OptionSpec("source_service_field", "path", None, _optional_path, "document field giving source_service"),
        OptionSpec("target_service_field", "path", None, _optional_path, "document field giving target_service"),
        OptionSpec("interaction_type_field", "path", None, _optional_path, "document field giving interaction_type"),
        OptionSpec("on_history_lost", "choice", "stop", _choice(("stop", "restart_from_now")), "when the resume token is older than the oplog: stop with status 'failed', or start again from now (and say so)"),
        OptionSpec("on_invalidate", "choice", "stop", _choice(("stop", "continue")), "when the watched collection is dropped or renamed: stop with status 'invalidated', or continue after it"),
        OptionSpec("event_log_ttl_days", "integer", 7, _integer(1, 3650), "days the event log keeps a row"),
        OptionSpec("auto_start", "boolean", False, _boolean, "start delivering in the process that runs CREATE, as START does; otherwise START EVENT_SUBSCRIPTION or `queryleaf worker` runs it"),
        OptionSpec("event_log", "choice", "all", _choice(("all", "failures")), "event log rows for every event, or only for events that failed (retrying, dead_letter, failed): the cheaper setting for high-volume subscriptions"),
    ]
}  # fmt: skip


def validate_options(
    given: dict[str, OptionValue], name: str, *, partial: bool = False
) -> dict[str, Any]:
    """Checked options with defaults filled in (only the given ones when `partial`, for
    ALTER). Errors point at the offending option."""
    values: dict[str, Any] = {}
    for key, option in given.items():
        spec = OPTIONS.get(key)
        if spec is None:
            close = difflib.get_close_matches(key, list(OPTIONS), n=1)
            raise SemanticError(
                f"unknown option {key}",
                offset=option.offset,
                hint=f"did you mean {close[0]}?"
                if close
                else f"known options: {', '.join(OPTIONS)}",
                code="QL310",
            )
        problem = spec.check(option.value)
        if problem is not None:
            raise SemanticError(
                f"option {key} {problem}",
                offset=option.value_offset,
                hint=spec.help,
                code="QL311",
            )
        values[key] = option.value
    if partial:
        return values
    complete = {key: spec.default for key, spec in OPTIONS.items()}
    complete.update(values)
    if complete["subscription_id"] is None:
        complete["subscription_id"] = name
    return complete
