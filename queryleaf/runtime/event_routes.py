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

from queryleaf.subscriptions.compile_stream import StreamPlan

COLLECTION_ENDINGS = ("drop", "rename")  # what ends a collection stream (then: invalidate)
SHARED_OPERATORS = frozenset({
    "$and", "$or", "$nor", "$not", "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin",
    "$exists", "$regex", "$options", "$size", "$elemMatch", "$comment",
})  # fmt: skip
COMPARISONS = frozenset({"$gt", "$gte", "$lt", "$lte"})
LOGICAL = frozenset({"$and", "$or", "$nor"})


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


def _plain(query: Any) -> bool:
    """Whether a query uses only SHARED_OPERATORS, with operands the in-process matcher
    treats as MongoDB does: no array to compare whole (`{a: [1, 2]}`, `$eq` or `$in` of
    arrays, where the matcher and the server differ on nested arrays) and no comparison
    with null (`$gte: null` matches a missing field on the server only)."""
    if not isinstance(query, dict):
        return False
    for key, value in query.items():
        if key in LOGICAL:
            if not isinstance(value, list) or not all(_plain(v) for v in value):
                return False
        elif key.startswith("$"):
            if key not in SHARED_OPERATORS:
                return False
        elif not _plain_condition(value):
            return False
    return True


def _plain_condition(value: Any) -> bool:
    if isinstance(value, list):
        return False
    if not isinstance(value, dict) or not any(k.startswith("$") for k in value):
        return True  # equality with a scalar or an embedded document
    for operator, operand in value.items():
        if operator not in SHARED_OPERATORS:
            return False
        if operator in COMPARISONS and operand is None:
            return False
        if operator in ("$eq", "$ne") and isinstance(operand, list):
            return False
        if operator in ("$in", "$nin") and (
            not isinstance(operand, list) or any(isinstance(v, list) for v in operand)
        ):
            return False
        if operator == "$not" and not _plain_condition(operand):
            return False
        if operator == "$elemMatch" and not (_plain(operand) or _plain_condition(operand)):
            return False
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
