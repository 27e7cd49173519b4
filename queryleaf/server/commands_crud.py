"""Documents: insert, update, delete (ordered and unordered, with writeErrors), find, count,
distinct and findAndModify, with MongoDB's reply shapes."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from typing import Any

from .cursors import DEFAULT_FIRST_BATCH, QueryCursor, encode
from .engine import Call, Spec
from .errors import CommandError, engine_error


def _list_of(call: Call, field: str) -> list[dict[str, Any]]:
    value = call.command.get(field)
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise CommandError(
            14, f"BSON field '{call.name}.{field}' is missing or is not an array of documents"
        )
    return value


def _write_error(index: int, error: Exception) -> dict[str, Any]:
    mapped = engine_error(error)
    if mapped is None:
        raise error
    code, message, details = mapped
    entry: dict[str, Any] = {"index": index, "code": code, "errmsg": message}
    for key in ("keyPattern", "keyValue", "errInfo"):
        if key in details:
            entry[key] = details[key]
    return entry


def _run_writes(
    call: Call, items: list[Any], run: Callable[[int, Any], None]
) -> list[dict[str, Any]]:
    ordered = call.command.get("ordered", True) is not False
    errors = []
    for index, item in enumerate(items):
        try:
            run(index, item)
        except Exception as error:
            errors.append(_write_error(index, error))
            if ordered:
                break
    return errors


def insert(call: Call) -> dict[str, Any]:
    collection = call.collection()
    documents = _list_of(call, "documents")
    inserted = 0

    def run(_index: int, document: dict[str, Any]) -> None:
        nonlocal inserted
        collection.insert_one(document)
        inserted += 1

    errors = _run_writes(call, documents, run)
    reply: dict[str, Any] = {"n": inserted}
    if errors:
        reply["writeErrors"] = errors
    return reply


def _is_replacement(update: Any) -> bool:
    return isinstance(update, dict) and not any(k.startswith("$") for k in update)


def update(call: Call) -> dict[str, Any]:
    collection = call.collection()
    statements = _list_of(call, "updates")
    totals = {"n": 0, "nModified": 0}
    upserted: list[dict[str, Any]] = []

    def run(index: int, statement: dict[str, Any]) -> None:
        query = statement.get("q") or {}
        change = statement.get("u")
        upsert = bool(statement.get("upsert"))
        multi = bool(statement.get("multi"))
        options: dict[str, Any] = {"upsert": upsert}
        if statement.get("arrayFilters") is not None:
            options["array_filters"] = statement["arrayFilters"]
        if change is None or not isinstance(change, dict | list):
            raise CommandError(9, "BSON field 'update.updates.u' is missing or is not an object")
        if _is_replacement(change):
            if multi:
                raise CommandError(9, "multi update is not supported for replacement-style update")
            options.pop("array_filters", None)
            result = collection.replace_one(query, change, upsert=upsert)
        elif multi:
            result = collection.update_many(query, change, **options)
        else:
            result = collection.update_one(query, change, **options)
        totals["n"] += result.matched_count
        totals["nModified"] += result.modified_count
        if result.upserted_id is not None:
            totals["n"] += 1
            upserted.append({"index": index, "_id": result.upserted_id})

    errors = _run_writes(call, statements, run)
    reply: dict[str, Any] = dict(totals)
    if upserted:
        reply["upserted"] = upserted
    if errors:
        reply["writeErrors"] = errors
    return reply


def delete(call: Call) -> dict[str, Any]:
    collection = call.collection()
    statements = _list_of(call, "deletes")
    removed = 0

    def run(_index: int, statement: dict[str, Any]) -> None:
        nonlocal removed
        query = statement.get("q")
        if not isinstance(query, dict):
            raise CommandError(9, "BSON field 'delete.deletes.q' is missing")
        limit = statement.get("limit", 0)
        if limit not in (0, 1):
            raise CommandError(9, "The limit field in delete objects must be 0 or 1.")
        result = collection.delete_one(query) if limit == 1 else collection.delete_many(query)
        removed += result.deleted_count

    errors = _run_writes(call, statements, run)
    reply: dict[str, Any] = {"n": removed}
    if errors:
        reply["writeErrors"] = errors
    return reply


def _sort(value: Any) -> list[tuple[str, Any]] | None:
    if not value:
        return None
    if not isinstance(value, dict):
        raise CommandError(14, "sort must be a document")
    return [(key, direction) for key, direction in value.items() if not isinstance(direction, dict)]


def cursor_reply(
    call: Call, namespace: str, documents: list[Any], batch_size: Any, single: bool = False
) -> dict[str, Any]:
    """A cursor's first batch; the rest stays registered for getMore."""
    cursor = QueryCursor(namespace, documents)
    size = DEFAULT_FIRST_BATCH if batch_size is None else int(batch_size)
    first = cursor.batch(size) if size > 0 else []
    cursor_id = 0
    if not (single or cursor.exhausted):
        cursor_id = call.engine.cursors.add(cursor)
    from bson import Int64

    return {"cursor": {"firstBatch": first, "id": Int64(cursor_id), "ns": namespace}}


def find(call: Call) -> dict[str, Any]:
    collection = call.collection()
    command = call.command
    query = command.get("filter") or {}
    if not isinstance(query, dict):
        raise CommandError(14, "BSON field 'filter' is the wrong type, expected type 'object'")
    if command.get("tailable"):
        raise CommandError(2, "tailable cursor requested on non capped collection")
    limit = int(command.get("limit") or 0)
    single = bool(command.get("singleBatch"))
    if limit < 0:
        limit, single = -limit, True
    skip = int(command.get("skip") or 0)
    if skip < 0 or limit < 0:
        raise CommandError(51024, "skip and limit must be non-negative")
    if command.get("let"):
        pipeline: list[dict[str, Any]] = [{"$match": query}]
        if command.get("sort"):
            pipeline.append({"$sort": command["sort"]})
        if skip:
            pipeline.append({"$skip": skip})
        if limit:
            pipeline.append({"$limit": limit})
        if command.get("projection"):
            pipeline.append({"$project": command["projection"]})
        documents = list(collection.aggregate(pipeline, let=command["let"]))
    elif not command.get("projection") and not command.get("sort") and not _geo(query):
        # The stored documents themselves, encoded now (under the engine lock, before any
        # later write changes them): no copies, as the reply is BSON anyway.
        stop = skip + limit if limit else None
        found = itertools.islice(collection._iter_documents(query), skip, stop)
        documents = [encode(document) for document in found]
    else:
        documents = list(
            collection.find(
                query,
                command.get("projection") or None,
                skip=skip,
                limit=limit,
                sort=_sort(command.get("sort")),
            )
        )
    batch = command.get("batchSize")
    if single and limit:
        batch = limit
    return cursor_reply(call, call.namespace(), documents, batch, single)


def _geo(value: Any) -> bool:
    """Whether a filter uses $near/$nearSphere (which order results: left to find())."""
    if isinstance(value, dict):
        return any(k in ("$near", "$nearSphere") or _geo(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_geo(v) for v in value)
    return False


def count(call: Call) -> dict[str, Any]:
    collection = call.collection()
    query = call.command.get("query") or {}
    options: dict[str, Any] = {}
    if call.command.get("skip"):
        options["skip"] = int(call.command["skip"])
    if call.command.get("limit"):
        options["limit"] = abs(int(call.command["limit"]))
    return {"n": collection.count_documents(query, **options)}


def distinct(call: Call) -> dict[str, Any]:
    collection = call.collection()
    key = call.command.get("key")
    if not isinstance(key, str):
        raise CommandError(14, "BSON field 'distinct.key' is missing or is not a string")
    values = collection.distinct(key, call.command.get("query") or {})
    # Copied under the lock: values may be the stored documents' own sub-documents.
    return {"values": copy.deepcopy(values)}


def find_and_modify(call: Call) -> dict[str, Any]:
    collection = call.collection()
    command = call.command
    query = command.get("query") or {}
    sort = _sort(command.get("sort"))
    remove = bool(command.get("remove"))
    change = command.get("update")
    fields = command.get("fields") or None
    if remove and change is not None:
        raise CommandError(9, "Cannot specify both an update and remove=true")
    if not remove and change is None:
        raise CommandError(9, "Either an update or remove=true must be specified")
    if remove:
        value = collection.find_one_and_delete(query, projection=fields, sort=sort)
        return {"lastErrorObject": {"n": 0 if value is None else 1}, "value": value}
    upsert = bool(command.get("upsert"))
    after = bool(command.get("new"))
    existing = collection.find_one(query, {"_id": 1}, sort=sort)
    if _is_replacement(change):
        value = collection.find_one_and_replace(
            query, change, projection=fields, sort=sort, upsert=upsert, return_document=after
        )
    else:
        options: dict[str, Any] = {}
        if command.get("arrayFilters") is not None:
            options["array_filters"] = command["arrayFilters"]
        value = collection.find_one_and_update(
            query,
            change,
            projection=fields,
            sort=sort,
            upsert=upsert,
            return_document=after,
            **options,
        )
    last: dict[str, Any] = {"n": 1, "updatedExisting": existing is not None}
    if existing is None:
        if not upsert:
            last["n"] = 0
        else:
            found = value if after and value is not None else collection.find_one(query, sort=sort)
            if found is not None and "_id" in found:
                last["upserted"] = found["_id"]
    return {"lastErrorObject": last, "value": value}


COMMANDS = {
    "insert": Spec(insert, write=True),
    "update": Spec(update, write=True),
    "delete": Spec(delete, write=True),
    "findAndModify": Spec(find_and_modify, write=True),
    "findandmodify": Spec(find_and_modify, write=True),
    "find": Spec(find),
    "count": Spec(count),
    "distinct": Spec(distinct),
}
