"""The user's stages after `$changeStream`: checked when the stream opens, run on each event.

Checking mirrors the server's aggregate-time errors; running goes through mongomock-ng's
`aggregate.process_pipeline` (looked up at call time, so the embedded engine's operator and stage
corrections apply). An event whose `_id` (its resume token) comes out changed or removed fails
the stream with ChangeStreamFatalError, as on the server.
"""

from __future__ import annotations

from typing import Any

from mongomock_ng import OperationFailure, aggregate

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
