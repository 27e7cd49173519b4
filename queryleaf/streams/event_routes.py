"""Which events of a shared database stream belong to one subscription.

A shared stream's `$match` is the `$or` of its members' conditions, so MongoDB sends only events
some member wants; in-process each event then goes to the members whose own condition it
satisfies, evaluated with the embedded engine's query matcher. Only conditions that matcher
evaluates exactly like the server are shared: the plain query operators of SHARED_OPERATORS
on event fields. Other conditions (`$expr`, `$mod`, `$jsonSchema`, ...), subscriptions with
stages other than one `$match`, and those requiring images (`full_document` or
`full_document_before_change` = 'required': an event without one fails the whole stream)
keep a change stream of their own."""

from __future__ import annotations

import datetime as dt
from typing import Any

from mongomock_ng import helpers
from mongomock_ng.filtering import filter_applies

from queryleaf.streams.compile_stream import StreamPlan

COLLECTION_ENDINGS = ("drop", "rename")  # what ends a collection stream (then: invalidate)
SHARED_OPERATORS = frozenset({
    "$and", "$or", "$nor", "$not", "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin",
    "$exists", "$regex", "$options", "$size", "$all", "$elemMatch", "$comment",
})  # fmt: skip


def shareable(plan: StreamPlan) -> bool:
    """Whether the subscription's stream can be one member of a shared stream."""
    if "required" in (
        plan.options.get("fullDocument"),
        plan.options.get("fullDocumentBeforeChange"),
    ):
        return False
    if len(plan.pipeline) > 1:
        return False
    if plan.pipeline and "$match" not in plan.pipeline[0]:
        return False
    return not plan.pipeline or _plain(plan.pipeline[0]["$match"])


def _plain(value: Any) -> bool:
    """Whether a query uses only SHARED_OPERATORS."""
    if isinstance(value, dict):
        return all(
            (not k.startswith("$") or k in SHARED_OPERATORS) and _plain(v) for k, v in value.items()
        )
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return True


def _has_dates(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_dates(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_dates(v) for v in value)
    return isinstance(value, dt.datetime)


class Route:
    """One member's share of a database stream."""

    def __init__(self, plan: StreamPlan) -> None:
        self.collection = plan.collection  # a single-collection subscription
        self.pre_image = "fullDocumentBeforeChange" in plan.options  # wants pre-images
        match: dict[str, Any] = dict(plan.pipeline[0]["$match"]) if plan.pipeline else {}
        if self.collection is not None:
            # Watched alone, a collection's stream needs no namespace condition; shared, it does.
            if "ns.coll" in match:
                match = {"$and": [{"ns.coll": self.collection}, match]}
            else:
                match = {"ns.coll": self.collection, **match}
        self.condition = match
        # The server compares dates as BSON stores them (UTC, milliseconds): so does the
        # route, on both sides, when the condition holds dates.
        self._dates = _has_dates(match)
        if self._dates:
            self._matched = helpers.patch_datetime_awareness_in_document(match)

    def conditions(self) -> list[dict[str, Any]]:
        """What the shared stream's `$or` needs for this member: its events, and for a single
        collection the drop or rename (of it, or of another collection onto it) that would
        have ended its own stream."""
        wanted = [self.condition]
        if self.collection is not None:
            wanted.append(
                {"operationType": {"$in": list(COLLECTION_ENDINGS)}, "ns.coll": self.collection}
            )
            wanted.append({"operationType": "rename", "to.coll": self.collection})
        return wanted

    def wants(self, event: dict[str, Any]) -> bool:
        if self._dates:
            normal = helpers.patch_datetime_awareness_in_document(event)
            return bool(filter_applies(self._matched, normal))
        return bool(filter_applies(self.condition, event))

    def ends(self, event: dict[str, Any]) -> bool:
        """Whether the event would have invalidated the member's own stream."""
        if event.get("operationType") == "invalidate":
            return self.collection is None  # the database's stream ended (dropDatabase)
        if self.collection is None or event.get("operationType") not in COLLECTION_ENDINGS:
            return False
        if (event.get("ns") or {}).get("coll") == self.collection:
            return True
        return (event.get("to") or {}).get("coll") == self.collection
