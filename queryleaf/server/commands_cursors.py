"""aggregate (with `$changeStream`), getMore (awaitData for change streams, honouring
maxTimeMS) and killCursors."""

from __future__ import annotations

import time
from typing import Any

from bson import Int64

from .commands_crud import cursor_reply
from .cursors import QueryCursor, StreamCursor
from .engine import Call, Spec
from .errors import CommandError, engine_error

DEFAULT_AWAIT_MS = 1000  # MongoDB's default wait of a change stream getMore
_WRITE_STAGES = ("$out", "$merge")


def aggregate(call: Call) -> dict[str, Any]:
    command = call.command
    pipeline = command.get("pipeline")
    if not isinstance(pipeline, list):
        raise CommandError(14, "'pipeline' option must be specified as an array")
    cursor_options = command.get("cursor")
    if cursor_options is None and not command.get("explain"):
        raise CommandError(
            9, "The 'cursor' option is required, except for aggregate with the explain argument"
        )
    if command.get("explain"):
        raise CommandError(238, "explain is not supported by queryleaf serve")
    batch_size = (cursor_options or {}).get("batchSize")
    if pipeline and isinstance(pipeline[0], dict) and "$changeStream" in pipeline[0]:
        return _open_stream(call, pipeline, batch_size)
    target = command.get("aggregate")
    let = command.get("let")
    with call.engine.lock:
        if target == 1:
            database = call.database()
            documents = list(database.aggregate(pipeline, let=let))
            namespace = f"{call.db}.$cmd.aggregate"
        else:
            documents = list(call.collection("aggregate").aggregate(pipeline, let=let))
            namespace = call.namespace("aggregate")
    if pipeline and isinstance(pipeline[-1], dict) and set(pipeline[-1]) & set(_WRITE_STAGES):
        documents = []
    return cursor_reply(call, namespace, documents, batch_size)


def _open_stream(call: Call, pipeline: list[Any], batch_size: Any) -> dict[str, Any]:
    spec = pipeline[0]["$changeStream"]
    if not isinstance(spec, dict):
        raise CommandError(14, "the $changeStream stage specification must be an object")
    unknown = set(spec) - {
        "fullDocument",
        "fullDocumentBeforeChange",
        "resumeAfter",
        "startAfter",
        "startAtOperationTime",
        "showExpandedEvents",
        "allChangesForCluster",
    }
    if unknown:
        raise CommandError(
            40415, f"BSON field '$changeStream.{sorted(unknown)[0]}' is an unknown field."
        )
    target = call.command.get("aggregate")
    client = call.engine.client
    with call.engine.lock:
        if target == 1:
            if spec.get("allChangesForCluster"):
                if call.db != "admin":
                    raise CommandError(
                        73,
                        "$changeStream may only be opened on the 'admin' database when "
                        "allChangesForCluster is set",
                    )
                source: Any = client
            else:
                source = call.database()
            namespace = f"{call.db}.$cmd.aggregate"
        else:
            source = call.collection("aggregate")
            namespace = call.namespace("aggregate")
        stream = source.watch(
            pipeline[1:],
            full_document=spec.get("fullDocument"),
            full_document_before_change=spec.get("fullDocumentBeforeChange"),
            resume_after=spec.get("resumeAfter"),
            start_after=spec.get("startAfter"),
            start_at_operation_time=spec.get("startAtOperationTime"),
        )
    cursor = StreamCursor(namespace, stream)
    batch = _stream_batch(call, cursor, 0, batch_size)
    cursor_id = call.engine.cursors.add(cursor) if stream.alive else 0
    return {
        "cursor": {
            "firstBatch": batch,
            "postBatchResumeToken": stream.resume_token,
            "id": Int64(cursor_id),
            "ns": namespace,
        }
    }


def _stream_batch(call: Call, cursor: StreamCursor, wait_ms: float, size: Any) -> list[Any]:
    """Events ready now, or the first to arrive within `wait_ms` (and any ready with it)."""
    stream = cursor.stream
    limit = int(size) if size else 1000
    if size == 0:
        return []
    deadline = time.monotonic() + wait_ms / 1000
    batch: list[Any] = []
    engine = call.engine
    while len(batch) < limit:
        with engine.lock:  # event building reads documents (updateLookup)
            stream._await = 0
            event = stream.try_next()
        if event is not None:
            batch.append(event)
            continue
        if batch or not stream.alive:
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        stream._journal.wait(stream._pos, remaining, stream._stop)
    return batch


def get_more(call: Call) -> dict[str, Any]:
    command = call.command
    cursor_id = command.get("getMore")
    if not isinstance(cursor_id, int):
        raise CommandError(14, "BSON field 'getMore.getMore' is the wrong type, expected 'long'")
    collection = command.get("collection")
    if not isinstance(collection, str):
        raise CommandError(14, "BSON field 'getMore.collection' is missing or not a string")
    cursor = call.engine.cursors.get(int(cursor_id))
    if cursor is None:
        raise CommandError(43, f"cursor id {cursor_id} not found")
    expected = cursor.ns.partition(".")[2]
    if cursor.ns != f"{call.db}.{collection}" and not expected.startswith("$cmd"):
        raise CommandError(
            13,
            f"Requested getMore on namespace '{call.db}.{collection}', but cursor belongs "
            f"to a different namespace {cursor.ns}",
        )
    batch_size = command.get("batchSize")
    if not cursor.lock.acquire(blocking=False):
        raise CommandError(2, f"cursor id {cursor_id} is already in use by another getMore")
    try:
        if isinstance(cursor, QueryCursor):
            batch = cursor.batch(int(batch_size) if batch_size else None)
            done = cursor.exhausted
            reply_cursor: dict[str, Any] = {"nextBatch": batch}
        else:
            wait_ms = command.get("maxTimeMS", DEFAULT_AWAIT_MS)
            try:
                batch = _stream_batch(call, cursor, float(wait_ms or 0), batch_size)
            except Exception as error:
                call.engine.cursors.remove(cursor.id)
                mapped = engine_error(error)
                if mapped is None:
                    raise
                raise CommandError(mapped[0], mapped[1]) from None
            done = not cursor.stream.alive
            reply_cursor = {
                "nextBatch": batch,
                "postBatchResumeToken": cursor.stream.resume_token,
            }
    finally:
        cursor.lock.release()
    if done:
        call.engine.cursors.remove(cursor.id)
    reply_cursor["id"] = Int64(0 if done else cursor.id)
    reply_cursor["ns"] = cursor.ns
    return {"cursor": reply_cursor}


def kill_cursors(call: Call) -> dict[str, Any]:
    ids = call.command.get("cursors")
    if not isinstance(ids, list):
        raise CommandError(14, "BSON field 'killCursors.cursors' is missing or not an array")
    killed, missing = [], []
    for cursor_id in ids:
        if isinstance(cursor_id, int) and call.engine.cursors.remove(int(cursor_id)):
            killed.append(Int64(cursor_id))
        else:
            missing.append(cursor_id)
    return {
        "cursorsKilled": killed,
        "cursorsNotFound": missing,
        "cursorsAlive": [],
        "cursorsUnknown": [],
    }


COMMANDS = {
    "aggregate": Spec(aggregate),
    "getMore": Spec(get_more, locked=False),
    "killCursors": Spec(kill_cursors, locked=False),
}
