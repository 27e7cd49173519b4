"""A change stream's `$match` of string conditions joined by `$and`/`$or` (what the runtime's
shared streams send) is tested without the general matcher: the verdicts must be the general
matcher's for every shape of event, arrays and missing fields included."""

from __future__ import annotations

import itertools
from typing import Any

from mongomock_ng import filtering

from queryleaf.engines.embedded.change_streams.pipeline import match_only

RUNTIME_MATCH = {
    "$or": [
        {"ns.coll": "bench", "operationType": {"$in": ["insert", "update", "replace", "delete"]}},
        {"operationType": {"$in": ["drop", "rename"]}, "ns.coll": "bench"},
        {"operationType": "rename", "to.coll": "bench"},
    ]
}
SPECS: list[dict[str, Any]] = [
    RUNTIME_MATCH,
    {"ns.coll": "bench"},
    {"ns.coll": {"$eq": "bench"}, "ns.db": {"$in": ["a", "b"]}},
    {"$and": [{"operationType": "insert"}, {"$or": [{"ns.coll": "x"}, {"ns.coll": "bench"}]}]},
    {"$or": [{"fullDocument.kind": "a"}, {"fullDocument.kind": {"$in": ["b", "c"]}}]},
    {},
]
NAMESPACES: list[Any] = [
    {"db": "a", "coll": "bench"},
    {"db": "b", "coll": "other"},
    {"db": "a"},
    {"db": "a", "coll": ["bench", "x"]},  # an array: MongoDB's array rules
    {"db": "a", "coll": 5},
    {"db": "a", "coll": {"name": "bench"}},
    [{"coll": "bench"}],  # an array of documents on the path
    "bench",
    None,
]
OPERATIONS: list[Any] = ["insert", "rename", "drop", "update", ["insert"], None]
DOCUMENTS: list[Any] = [{"kind": "a"}, {"kind": "c"}, {"kind": ["b"]}, {"kind": 1}, {}, None]


def _events() -> list[dict[str, Any]]:
    events = []
    for ns, op, document in itertools.product(NAMESPACES, OPERATIONS, DOCUMENTS):
        event: dict[str, Any] = {"_id": {"_data": "00"}}
        if ns is not None:
            event["ns"] = ns
        if op is not None:
            event["operationType"] = op
        if document is not None:
            event["fullDocument"] = document
        if op == "rename":
            event["to"] = {"db": "a", "coll": "bench"}
        events.append(event)
    return events


def test_compiled_match_agrees_with_the_general_matcher() -> None:
    events = _events()
    checked = 0
    for spec in SPECS:
        test = match_only([{"$match": spec}])
        assert test is not None
        for event in events:
            assert test(event) == filtering.filter_applies(spec, event), (spec, event)
            checked += 1
    assert checked == len(SPECS) * len(events) > 1000


def test_several_match_stages_must_all_hold() -> None:
    stages = [{"$match": {"ns.coll": "bench"}}, {"$match": {"operationType": "insert"}}]
    test = match_only(stages)
    assert test is not None
    for event in _events():
        expected = all(filtering.filter_applies(s["$match"], event) for s in stages)
        assert test(event) == expected, event
