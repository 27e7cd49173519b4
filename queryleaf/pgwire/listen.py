"""LISTEN on a subscription's name: every change event the subscription's stream matches
(its collections, event types and event_filter) arrives as a NotificationResponse whose
payload is the event as relaxed Extended JSON. PostgreSQL caps a payload under 8,000 bytes:
a larger event is sent as a reference (its resume token, operation, namespace and document
key, `"truncated": true`).

One reader thread per channel, shared by every session listening on it; it opens its own
change stream at the time of the first LISTEN (events from then on), independent of the
subscription's worker and its resume token, so listening changes nothing in delivery."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

from bson import json_util

from queryleaf.pgwire import codec
from queryleaf.pgwire.outcome import PgError
from queryleaf.plan.plans import EXTENDED_JSON

PAYLOAD_LIMIT = 8000
POLL_SECONDS = 0.05


def payload(channel: str, event: dict[str, Any]) -> str:
    text = json_util.dumps(event, json_options=EXTENDED_JSON)
    if len(text.encode()) < PAYLOAD_LIMIT:
        return text
    reference = {
        "subscription": channel,
        "truncated": True,
        "size": len(text.encode()),
        "_id": event.get("_id"),
        "operationType": event.get("operationType"),
        "ns": event.get("ns"),
        "documentKey": event.get("documentKey"),
        "clusterTime": event.get("clusterTime"),
    }
    return json_util.dumps(reference, json_options=EXTENDED_JSON)[: PAYLOAD_LIMIT - 1]


class _Reader:
    def __init__(self, hub: ListenHub, channel: str, stream: Any) -> None:
        self.hub = hub
        self.channel = channel
        self.stream = stream
        self.sessions: set[Any] = set()
        self.stop = threading.Event()
        self.thread = threading.Thread(
            target=self._run, name=f"queryleaf-listen-{channel}", daemon=True
        )

    def _run(self) -> None:
        try:
            while not self.stop.is_set():
                event = self.stream.try_next()
                if event is None:
                    self.stop.wait(POLL_SECONDS)
                    continue
                text = payload(self.channel, event)
                for session in list(self.sessions):
                    send = getattr(session, "notify", None)
                    if send is not None:
                        send(codec.notification(session.pid, self.channel, text))
        except Exception:  # a stream that dies ends the channel; LISTEN again reopens it
            pass
        finally:
            with contextlib.suppress(Exception):
                self.stream.close()
            self.hub._ended(self.channel, self)


class ListenHub:
    def __init__(self, shared: Any) -> None:
        self.shared = shared
        self.readers: dict[str, _Reader] = {}
        self.lock = threading.Lock()

    def listen(self, session: Any, channel: str, conn: Any) -> None:
        with self.lock:
            reader = self.readers.get(channel)
            if reader is None:
                reader = _Reader(self, channel, self._open(channel, conn))
                self.readers[channel] = reader
                reader.thread.start()
            reader.sessions.add(session)

    def _open(self, channel: str, conn: Any) -> Any:
        from queryleaf.subscriptions.compile_stream import compile_subscription
        from queryleaf.subscriptions.statements import stored_options
        from queryleaf.system_collections import SUBSCRIPTIONS

        db = conn.db
        with self.shared.lock:
            document = db[SUBSCRIPTIONS].find_one({"_id": channel})
            if document is None:
                raise PgError(
                    "42704",
                    f'no event subscription "{channel}": LISTEN takes a subscription\'s name '
                    "(SHOW EVENT_SUBSCRIPTIONS lists them)",
                )
            plan = compile_subscription(stored_options(document), db)
            target = db[plan.collection] if plan.collection else db
            kwargs = plan.watch_kwargs()
            kwargs.pop("resume_after", None)
            kwargs.pop("start_after", None)
            kwargs.pop("start_at_operation_time", None)
            return target.watch(**kwargs, max_await_time_ms=int(POLL_SECONDS * 1000))

    def unlisten(self, session: Any, channel: str) -> None:
        with self.lock:
            reader = self.readers.get(channel)
            if reader is None:
                return
            reader.sessions.discard(session)
            if not reader.sessions:
                reader.stop.set()
                del self.readers[channel]

    def _ended(self, channel: str, reader: _Reader) -> None:
        with self.lock:
            if self.readers.get(channel) is reader:
                del self.readers[channel]

    def close(self) -> None:
        with self.lock:
            readers = list(self.readers.values())
            self.readers.clear()
        for reader in readers:
            reader.stop.set()
        deadline = time.monotonic() + 2
        for reader in readers:
            reader.thread.join(max(0.0, deadline - time.monotonic()))
