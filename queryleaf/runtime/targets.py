"""Delivery targets named by a subscription's `deliver_to`: log, log:FILE, collection:NAME,
collection:DB.NAME, handler:NAME and http(s):// webhooks. A target takes a list of change
events; `batched` says whether the subscription delivers lists (batch_processing) or single
events."""

from __future__ import annotations

import datetime as dt
import sys
import threading
import urllib.error
import urllib.request
from typing import Any, Protocol

from bson import Decimal128, Int64, ObjectId, Timestamp, json_util
from bson.json_util import JSONMode, JSONOptions

from queryleaf.errors import SemanticError
from queryleaf.runtime.log_files import append_line
from queryleaf.runtime.timed_calls import CallTimeout, TimedCalls
from queryleaf.runtime.webhook_guard import BlockedAddress, opener

# Relaxed Extended JSON: numbers stay numbers, dates are {"$date": "..."}.
EVENT_JSON = JSONOptions(json_mode=JSONMode.RELAXED, tz_aware=True)
_file_lock = threading.Lock()


class Target(Protocol):
    def deliver(self, events: list[dict[str, Any]], batched: bool) -> None: ...

    def close(self) -> None: ...


def event_json(value: Any) -> str:
    return json_util.dumps(value, json_options=EVENT_JSON)


class LogTarget:
    """One NDJSON line per event, to stdout or appended to a file inside the log directory
    (queryleaf/runtime/log_files.py: no `..`, no symlink followed)."""

    def __init__(self, path: str | None = None, directory: str | None = None) -> None:
        self.path = path
        self.directory = directory

    def deliver(self, events: list[dict[str, Any]], batched: bool) -> None:
        text = "".join(event_json(event) + "\n" for event in events)
        if self.path is None:
            with _file_lock:  # whole lines, even from parallel deliveries
                sys.stdout.write(text)
                sys.stdout.flush()
            return
        with _file_lock:
            append_line(self.directory, self.path, text.encode("utf-8"))

    def close(self) -> None:
        pass  # nothing held between deliveries


class CollectionTarget:
    """Keeps a copy of the watched documents in sync: upsert the full document by its key on
    insert/update/replace, delete on delete. Other event types are ignored."""

    def __init__(self, collection: Any) -> None:
        self.collection = collection
        # Parallel deliveries (preserve_order = FALSE) touch different documents, but an
        # embedded engine is not safe for concurrent writers: write one event at a time.
        self._lock = threading.Lock()

    def deliver(self, events: list[dict[str, Any]], batched: bool) -> None:
        with self._lock:
            self._apply(events)

    def _apply(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            operation = event.get("operationType")
            key = (event.get("documentKey") or {}).get("_id")
            if operation == "delete":
                self.collection.delete_one({"_id": key})
            elif operation in ("insert", "update", "replace"):
                document = event.get("fullDocument")
                if document is None:
                    # The document is gone by the time the update was read: its delete follows.
                    continue
                self.collection.replace_one({"_id": key}, document, upsert=True)

    def close(self) -> None:
        pass  # nothing held between deliveries


class HandlerTarget:
    """A Python callable registered with `conn.register_handler(name, fn)`; it gets one event,
    or a list of events when the subscription batches. Raising means the delivery failed."""

    def __init__(self, handlers: dict[str, Any], name: str, timeout_s: float | None) -> None:
        self.handlers, self.name = handlers, name
        # A deadline costs a hand-over to a helper thread per delivery: only when asked for.
        self.calls = TimedCalls(timeout_s, f"queryleaf-handler-{name}") if timeout_s else None

    def deliver(self, events: list[dict[str, Any]], batched: bool) -> None:
        handler = self.handlers.get(self.name)
        if handler is None:
            raise LookupError(f"no handler registered as {self.name!r}")
        # Handlers get copies: what one changes must not reach the event log, a dead letter
        # or another subscription sharing the stream.
        given = [copy_event(e) for e in events] if batched else copy_event(events[0])
        if self.calls is None:
            handler(given)
            return
        try:
            self.calls.call(handler, given)
        except CallTimeout as error:
            raise CallTimeout(f"handler {self.name} {error} (processing_timeout_ms)") from None

    def close(self) -> None:
        if self.calls is not None:
            self.calls.close()


class WebhookTarget:
    """POST the event (a JSON array when batched) as Extended JSON; any 2xx is success.
    Redirects are not followed, and private addresses are refused unless allowed
    (queryleaf/runtime/webhook_guard.py)."""

    def __init__(self, url: str, timeout_s: float, allow_private: bool = False) -> None:
        self.url, self.timeout_s = url, timeout_s
        self.opener = opener(allow_private)

    def deliver(self, events: list[dict[str, Any]], batched: bool) -> None:
        body = event_json(list(events) if batched else events[0]).encode()
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "queryleaf"},
        )
        try:
            with self.opener.open(request, timeout=self.timeout_s) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            moved = " (redirects are not followed)" if 300 <= error.code < 400 else ""
            raise RuntimeError(f"webhook answered HTTP {error.code}{moved}") from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, BlockedAddress):
                raise RuntimeError(f"webhook refused: {error.reason}") from None
            raise
        if not 200 <= status < 300:
            raise RuntimeError(f"webhook answered HTTP {status}")

    def close(self) -> None:
        pass  # nothing held between deliveries


# Immutable BSON values, shared by the copies without a call (the common case).
_LEAVES = frozenset(
    {str, int, float, bool, type(None), bytes, dt.datetime, ObjectId, Int64, Decimal128, Timestamp}
)


def copy_event(value: Any) -> Any:
    """A private copy of an event (containers copied, immutable BSON leaves shared)."""
    if isinstance(value, dict):
        return {k: v if type(v) in _LEAVES else copy_event(v) for k, v in value.items()}
    if isinstance(value, list):
        return [v if type(v) in _LEAVES else copy_event(v) for v in value]
    return value


WEBHOOK_TIMEOUT_MS = 30_000  # without processing_timeout_ms


def make_target(
    deliver_to: str | None, conn: Any, timeout_ms: int | None, allow_private: bool = False
) -> Target:
    """The target for a `deliver_to` value, resolved against a Connection; `timeout_ms` is
    processing_timeout_ms (None: not set); `allow_private` is allow_private_network."""
    spec = deliver_to or "log"
    if spec == "log":
        return LogTarget()
    if spec.startswith("log:"):
        return LogTarget(spec[len("log:") :], getattr(conn, "log_dir", None))
    if spec.startswith("collection:"):
        name = spec[len("collection:") :]
        database, dot, collection = name.partition(".")  # database names have no dots
        if dot:
            return CollectionTarget(conn.client[database][collection])
        return CollectionTarget(conn.db[name])
    if spec.startswith("handler:"):
        deadline = timeout_ms / 1000 if timeout_ms is not None else None
        return HandlerTarget(conn.handlers, spec[len("handler:") :], deadline)
    if spec.startswith(("http://", "https://")):
        return WebhookTarget(spec, (timeout_ms or WEBHOOK_TIMEOUT_MS) / 1000, allow_private)
    raise SemanticError(f"unknown deliver_to target {spec!r}", code="QL311")
