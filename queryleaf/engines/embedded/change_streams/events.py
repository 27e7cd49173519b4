"""Journal records (`Change`) and the change event documents MongoDB builds from them.

A `Change` is recorded once per write and shared by every stream, so it holds private copies of
the documents and is never mutated after publication; each stream builds its own event document
from it, at read time, for its own fullDocument / fullDocumentBeforeChange options.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from bson import Decimal128, Int64, ObjectId, Timestamp
from mongomock_ng import OperationFailure

from . import tokens
from .diff import update_description

# operationType values
INSERT, UPDATE, REPLACE, DELETE = "insert", "update", "replace", "delete"
DROP, RENAME, DROP_DATABASE, INVALIDATE = "drop", "rename", "dropDatabase", "invalidate"

# Events that name a document and may carry a pre-image.
DOCUMENT_CHANGES = frozenset({UPDATE, REPLACE, DELETE})

FULL_DOCUMENT_MODES = ("default", "updateLookup", "whenAvailable", "required")
BEFORE_CHANGE_MODES = ("off", "whenAvailable", "required")

# (db, coll, _id) -> the document as stored now, or None: for fullDocument 'updateLookup'.
Lookup = Callable[[str, str, Any], "dict | None"]

_NO_TIME = (0, 0)
_EPOCH = dt.datetime(1970, 1, 1)


def wall_time(seconds: float) -> dt.datetime:
    """A journal wall clock reading as the engine stores datetimes: naive UTC, milliseconds."""
    return _EPOCH + dt.timedelta(milliseconds=int(seconds * 1000))


class Change:
    """One journal entry: a write as the oplog would hold it (plus the images it needs)."""

    __slots__ = (
        "_diff",
        "_update",
        "before",
        "coll",
        "db",
        "full",
        "key",
        "lsid",
        "op",
        "seq",
        "time",
        "to",
        "txn_number",
        "wall",
    )

    def __init__(
        self,
        op: str,
        db: str,
        coll: str | None = None,
        key: Any = None,
        full: dict | None = None,
        before: dict | None = None,
        update: dict | None = None,
        to: tuple[str, str] | None = None,
    ) -> None:
        self.op = op
        self.db = db
        self.coll = coll
        self.key = key  # the document's _id (document changes only)
        self.full = full  # insert/replace: the new document; update: the post-image, if recorded
        self.before = before  # the pre-image, recorded only where the collection enables them
        self._update = update  # updateDescription, or computed from _diff on first read
        self._diff: tuple[dict, dict, Any] | None = None
        self.to = to  # rename target (db, coll)
        self.lsid: dict | None = None
        self.txn_number: Int64 | None = None
        # Assigned when the journal publishes the change.
        self.seq = 0
        self.time = _NO_TIME  # cluster time (seconds, increment): a Timestamp in events
        self.wall = 0.0  # seconds since the epoch

    def describe_later(self, before: dict, after: dict, spec: Any) -> None:
        """Defer the updateDescription diff to the first stream that builds this event: most
        writes (the runtime's own bookkeeping included) are filtered out before anyone needs
        it. The arguments must be private copies."""
        self._diff = (before, after, spec)

    @property
    def update(self) -> dict | None:
        pending = self._diff  # read once: streams in other threads may compute it too
        if self._update is None and pending is not None:
            self._update = update_description(*pending)
            self._diff = None
        return self._update

    def __repr__(self) -> str:
        return f"Change({self.seq}, {self.op}, {self.db}.{self.coll}, {self.key!r})"


# Immutable leaf types, shared rather than copied (the common case, checked without a call).
_SCALARS = frozenset(
    {str, int, float, bool, type(None), bytes, dt.datetime, ObjectId, Int64, Decimal128, Timestamp}
)


def clone(value: Any) -> Any:
    """A private copy of a document: containers are copied, scalars (immutable) shared."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, dict):
        return {k: v if type(v) in _SCALARS else clone(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [v if type(v) in _SCALARS else clone(v) for v in value]
    return value


def export(value: Any, tz_aware: bool) -> Any:
    """A copy for the user; datetimes get UTC tzinfo when the client is tz_aware (the journal
    stores them naive, like mongomock-ng's documents)."""
    if not tz_aware:
        return clone(value)
    if isinstance(value, dict):
        return {k: export(v, True) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [export(v, True) for v in value]
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def event_document(
    change: Change, full_document: str, before_change: str, lookup: Lookup
) -> dict[str, Any]:
    """The change event for `change` as a stream with these options sees it. Documents inside are
    shared with the journal: the caller copies before handing the event out."""
    op = change.op
    event: dict[str, Any] = {
        "_id": tokens.encode(change.time, change.seq, tokens.EVENT),
        "operationType": op,
        "clusterTime": Timestamp(*change.time),
        "wallTime": wall_time(change.wall),
    }
    if change.lsid is not None:
        event["lsid"] = change.lsid
        event["txnNumber"] = change.txn_number
    if op == DROP_DATABASE:
        event["ns"] = {"db": change.db}
        return event
    event["ns"] = {"db": change.db, "coll": change.coll}
    if op == RENAME and change.to is not None:
        event["to"] = {"db": change.to[0], "coll": change.to[1]}
    if op in (DROP, RENAME):
        return event
    event["documentKey"] = {"_id": change.key}
    if op in (INSERT, REPLACE):
        event["fullDocument"] = change.full
    elif op == UPDATE:
        event["updateDescription"] = change.update
        if full_document == "updateLookup":
            event["fullDocument"] = lookup(change.db, change.coll or "", change.key)
        elif full_document in ("whenAvailable", "required"):
            if change.full is None and full_document == "required":
                _image_missing("post-image for all update events", event)
            event["fullDocument"] = change.full
    if op in DOCUMENT_CHANGES and before_change != "off":
        if change.before is None and before_change == "required":
            _image_missing("pre-image for all update, delete and replace events", event)
        event["fullDocumentBeforeChange"] = change.before
    return event


def invalidate_document(change: Change) -> dict[str, Any]:
    """The invalidate that follows `change` (a drop, rename or dropDatabase) on the streams it
    ends; it shares the change's cluster time, and its token sorts right after the change's."""
    return {
        "_id": tokens.encode(change.time, change.seq, tokens.INVALIDATE),
        "operationType": INVALIDATE,
        "clusterTime": Timestamp(*change.time),
        "wallTime": wall_time(change.wall),
    }


def _image_missing(what: str, event: dict[str, Any]) -> None:
    summary = {
        "operationType": event["operationType"],
        "ns": event["ns"],
        "clusterTime": event["clusterTime"],
        "txnNumber": event.get("txnNumber"),
    }
    raise OperationFailure(
        f"Change stream was configured to require a {what}, "
        f"but the {what.split()[0]} was not found for event: {summary}",
        code=47,  # NoMatchingDocument
    )
