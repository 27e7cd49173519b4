"""The user's stages after `$changeStream`: checked when the stream opens, run on each event.

Checking mirrors the server's aggregate-time errors; running goes through mongomock-ng's
`aggregate.process_pipeline` (looked up at call time, so the embedded engine's operator and stage
corrections apply). An event whose `_id` (its resume token) comes out changed or removed fails
the stream with ChangeStreamFatalError, as on the server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mongomock_ng import OperationFailure, aggregate, filtering, helpers

ALLOWED_STAGES = frozenset(
    {
        "$match",
        "$project",
        "$addFields",
        "$set",
        "$unset",
        "$replaceRoot",
        "$replaceWith",
        "$redact",
    }
)
# Only as the last stage; events never reach 16 MB here, so it has nothing to split.
_SPLIT_STAGE = "$changeStreamSplitLargeEvent"

# Server stages mongomock-ng does not implement: refused as not permitted, not as unknown.
_OTHER_SERVER_STAGES = frozenset(
    {
        "$changeStream",
        "$densify",
        "$search",
        "$searchMeta",
        "$vectorSearch",
        "$listSearchIndexes",
        "$queryStats",
        "$shardedDataDistribution",
        "$listSampledQueries",
        "$listClusterCatalog",
    }
)


def check(pipeline: Any) -> list[dict[str, Any]]:
    """The validated stage list; OperationFailure for what the server refuses at watch()."""
    if pipeline is None:
        return []
    if not isinstance(pipeline, list):
        raise TypeError(f"pipeline must be an instance of list, not {type(pipeline)}")
    for position, stage in enumerate(pipeline):
        if not isinstance(stage, dict) or len(stage) != 1:
            raise OperationFailure(
                "A pipeline stage specification object must contain exactly one field.",
                code=40323,
            )
        name = next(iter(stage))
        if name in ALLOWED_STAGES:
            continue
        if name == _SPLIT_STAGE and position == len(pipeline) - 1:
            continue
        if name == "$changeStream":
            raise OperationFailure(
                "$changeStream is only allowed as the first stage in a pipeline", code=40602
            )
        if (
            name in aggregate._PIPELINE_HANDLERS
            or name in _OTHER_SERVER_STAGES
            or name == _SPLIT_STAGE
        ):
            raise OperationFailure(
                f"{name} is not permitted in a $changeStream pipeline",
                code=20,  # IllegalOperation
            )
        raise OperationFailure(f"Unrecognized pipeline stage name: '{name}'", code=40324)
    return [stage for stage in pipeline if _SPLIT_STAGE not in stage]


def match_only(pipeline: list[dict[str, Any]]) -> Callable[[dict[str, Any]], bool] | None:
    """For a pipeline of `$match` stages alone, a test of an event (which it cannot change),
    skipping the general stage machinery and its copies; None for any other pipeline."""
    if not pipeline or any(list(stage) != ["$match"] for stage in pipeline):
        return None
    # Normalised once (datetimes naive UTC), as the stage would on every event; the journal's
    # events are already normalised.
    specs = [helpers.patch_datetime_awareness_in_document(s["$match"]) for s in pipeline]
    compiled = [_query(spec) for spec in specs]
    if all(test is not None for test in compiled):
        test = _both(compiled)  # type: ignore[arg-type]

        def quick(event: dict[str, Any]) -> bool:
            verdict = test(event)
            if verdict is None:  # arrays on the way: the general rules
                return all(filtering.filter_applies(spec, event) for spec in specs)
            return verdict

        return quick
    return lambda event: all(filtering.filter_applies(spec, event) for spec in specs)


_ABSENT = object()
# A compiled condition: True or False, or None when the general matcher must decide (an
# array on the path, where MongoDB's rules for arrays apply).
Test = Callable[[dict[str, Any]], "bool | None"]


def _query(spec: Any) -> Test | None:
    """`{path: "text"}`, `{path: {$in: ["text", ...]}}` and `{path: {$eq: "text"}}`
    conditions, joined by `$and` / `$or` (the runtime's operationType and ns.coll filters),
    as a test; None for any other spec (the general matcher then runs alone)."""
    if not isinstance(spec, dict):
        return None
    tests: list[Test] = []
    for path, condition in spec.items():
        if path in ("$or", "$and"):
            if not isinstance(condition, list) or not condition:
                return None
            branches = [_query(branch) for branch in condition]
            if any(branch is None for branch in branches):
                return None
            join = _either if path == "$or" else _both
            tests.append(join(branches))  # type: ignore[arg-type]
            continue
        if not isinstance(path, str) or path.startswith("$"):
            return None
        parts = path.split(".")
        if any(part.isdigit() or not part for part in parts):
            return None
        if isinstance(condition, dict) and list(condition) in (["$in"], ["$eq"]):
            values = condition.get("$in", [condition.get("$eq")])
        else:
            values = [condition]
        if not isinstance(values, list) or not all(type(v) is str for v in values):
            return None
        tests.append(_strings(parts, frozenset(values)))
    return _both(tests) if tests else (lambda event: True)


def _strings(parts: list[str], wanted: frozenset[str]) -> Test:
    """A field equal to one of `wanted`: a string is compared; a missing field or a value of
    another type equals no string; an array on the path is left to the general matcher."""

    def test(event: dict[str, Any]) -> bool | None:
        value: Any = event
        for part in parts:
            kind = type(value)
            if kind is not dict:
                return None if kind is list else False
            value = value.get(part, _ABSENT)
        kind = type(value)
        if kind is str:
            return value in wanted
        return None if kind is list else False

    return test


def _both(tests: list[Test]) -> Test:
    if len(tests) == 1:
        return tests[0]

    def test(event: dict[str, Any]) -> bool | None:
        verdict: bool | None = True
        for each in tests:
            result = each(event)
            if result is False:
                return False
            if result is None:
                verdict = None
        return verdict

    return test


def _either(tests: list[Test]) -> Test:
    if len(tests) == 1:
        return tests[0]

    def test(event: dict[str, Any]) -> bool | None:
        verdict: bool | None = False
        for each in tests:
            result = each(event)
            if result is True:
                return True
            if result is None:
                verdict = None
        return verdict

    return test


def run(pipeline: list[dict[str, Any]], event: dict[str, Any], database: Any) -> dict | None:
    """The event after the user's stages, or None if they filtered it out."""
    if not pipeline:
        return event
    output = list(aggregate.process_pipeline([event], database, pipeline, None))
    if not output:
        return None
    result = output[0]
    token, found = event["_id"], result.get("_id")
    if not (isinstance(found, dict) and list(found.items()) == list(token.items())):
        raise OperationFailure(
            "Encountered an event whose _id field, which contains the resume token, was modified "
            "by the pipeline. Modifying the _id field of an event makes it impossible to resume "
            "the stream from that point. Only transformations that retain the unmodified _id "
            f"field are allowed. Expected: {{_id: {token}}} but found: "
            + ("{}" if found is None else f"{{_id: {found}}}"),
            code=280,  # ChangeStreamFatalError
        )
    return result


# (the change's collection, the collection a rename moves it to) -> may the $match hold?
NamespaceTest = Callable[[str | None, str | None], bool]


def namespace_test(pipeline: list[dict[str, Any]]) -> NamespaceTest | None:
    """A test of a change's collection name implied by the first stage's `$match`, or None.

    A database stream built for a few collections otherwise materialises (and looks up) every
    write of the database before its `$match` drops it; the server avoids the same work by
    pushing such namespace filters down to its oplog scan. Only plain string conditions on
    `ns.coll` and `to.coll` are understood; anything else gives None (no shortcut)."""
    if not pipeline or "$match" not in pipeline[0]:
        return None
    match = pipeline[0]["$match"]
    return _query_test(match) if isinstance(match, dict) else None


def _query_test(query: dict[str, Any]) -> NamespaceTest | None:
    tests: list[NamespaceTest] = []
    for key, value in query.items():
        if key in ("ns.coll", "to.coll"):
            test = _condition_test(value, 0 if key == "ns.coll" else 1)
        elif key == "$and" and isinstance(value, list):
            parts = [_query_test(v) if isinstance(v, dict) else None for v in value]
            found = [p for p in parts if p is not None]
            test = _all(found) if found else None
        elif key == "$or" and isinstance(value, list) and value:
            parts = [_query_test(v) if isinstance(v, dict) else None for v in value]
            # A branch that may match any collection: the $or narrows nothing (the other
            # conjuncts of this query still do).
            test = None if any(p is None for p in parts) else _any(parts)  # type: ignore[arg-type]
        else:
            continue  # another conjunct: it can only narrow the match further
        if test is not None:
            tests.append(test)
    return _all(tests) if tests else None


def _condition_test(value: Any, side: int) -> NamespaceTest | None:
    """A test of one name (0: the collection, 1: a rename's target; None when absent, which
    equals no string, as a missing field in $match)."""
    if isinstance(value, str):
        value = {"$eq": value}
    if not isinstance(value, dict) or len(value) != 1:
        return None
    ((operator, operand),) = value.items()
    if operator in ("$eq", "$ne") and isinstance(operand, str):
        names = frozenset([operand])
    elif operator in ("$in", "$nin") and isinstance(operand, list):
        if not all(isinstance(v, str) for v in operand):
            return None  # regexes or other types: leave it to $match
        names = frozenset(operand)
    else:
        return None
    inside = operator in ("$eq", "$in")
    return lambda *names_of: (names_of[side] in names) == inside


def _all(tests: list[NamespaceTest]) -> NamespaceTest:
    return tests[0] if len(tests) == 1 else lambda c, t: all(f(c, t) for f in tests)


def _any(tests: list[NamespaceTest]) -> NamespaceTest:
    return tests[0] if len(tests) == 1 else lambda c, t: any(f(c, t) for f in tests)
