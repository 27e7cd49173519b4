"""Which events of a shared database stream belong to one subscription.

A shared stream's `$match` is the `$or` of its members' conditions, so MongoDB sends only events
some member wants; in-process each event then goes to the members whose own condition it
satisfies, evaluated with the embedded engine's query matcher. Only conditions that matcher
evaluates exactly like the server are shared: plain query operators on event fields.
Conditions using `$expr`, `$jsonSchema` or other server-only operators, and subscriptions
with stages other than one `$match`, keep a change stream of their own."""

from __future__ import annotations

from typing import Any

from mongomock_ng.filtering import filter_applies

from queryleaf.streams.compile_stream import StreamPlan

COLLECTION_ENDINGS = ("drop", "rename")  # what ends a collection stream (then: invalidate)
PRIVATE_OPERATORS = frozenset({"$expr", "$jsonSchema", "$where", "$text", "$function"})


def shareable(plan: StreamPlan) -> bool:
    """Whether the subscription's stream can be one member of a shared stream."""
    if len(plan.pipeline) > 1:
        return False
    if plan.pipeline and "$match" not in plan.pipeline[0]:
        return False
    return not plan.pipeline or not _uses(plan.pipeline[0]["$match"], PRIVATE_OPERATORS)


def _uses(value: Any, operators: frozenset[str]) -> bool:
    if isinstance(value, dict):
        return any(k in operators or _uses(v, operators) for k, v in value.items())
    if isinstance(value, list):
        return any(_uses(v, operators) for v in value)
    return False


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

    def conditions(self) -> list[dict[str, Any]]:
        """What the shared stream's `$or` needs for this member: its events, and for a single
        collection the drop or rename that would have ended its own stream."""
        wanted = [self.condition]
        if self.collection is not None:
            wanted.append(
                {"operationType": {"$in": list(COLLECTION_ENDINGS)}, "ns.coll": self.collection}
            )
        return wanted

    def wants(self, event: dict[str, Any]) -> bool:
        return bool(filter_applies(self.condition, event))

    def ends(self, event: dict[str, Any]) -> bool:
        """Whether the event would have invalidated the member's own stream."""
        if event.get("operationType") == "invalidate":
            return self.collection is None  # the database's stream ended (dropDatabase)
        return (
            self.collection is not None
            and event.get("operationType") in COLLECTION_ENDINGS
            and (event.get("ns") or {}).get("coll") == self.collection
        )
