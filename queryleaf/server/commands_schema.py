"""Databases, collections, views and indexes: create, drop, dropDatabase, renameCollection,
collMod, listCollections, createIndexes, listIndexes and dropIndexes.

The embedded engine's `Database.command` already runs most of them with the server's replies
and errors (queryleaf/engines/embedded/commands.py); this module passes them on, adding what
a wire client needs (cursor replies in batches, namespaces)."""

from __future__ import annotations

from typing import Any

from .commands_crud import cursor_reply
from .engine import _GENERIC, Call, Spec
from .errors import CommandError


def _forward(call: Call) -> dict[str, Any]:
    call.collection_name()  # validates the name
    command = {k: v for k, v in call.command.items() if k not in _GENERIC}
    reply = dict(call.database().command(command))
    reply.pop("ok", None)
    return reply


def _forward_cursor(call: Call) -> dict[str, Any]:
    command = {k: v for k, v in call.command.items() if k not in _GENERIC and k != "cursor"}
    reply = call.database().command(command)
    cursor = reply["cursor"]
    batch_size = (call.command.get("cursor") or {}).get("batchSize")
    return cursor_reply(call, cursor["ns"], list(cursor["firstBatch"]), batch_size)


def list_collections(call: Call) -> dict[str, Any]:
    return _forward_cursor(call)


def list_indexes(call: Call) -> dict[str, Any]:
    call.collection_name()
    return _forward_cursor(call)


def drop_database(call: Call) -> dict[str, Any]:
    call.engine.client.drop_database(call.db)
    return {"dropped": call.db}


def rename_collection(call: Call) -> dict[str, Any]:
    if call.db != "admin":
        raise CommandError(13, "renameCollection may only be run against the admin database.")
    source, target = call.command.get("renameCollection"), call.command.get("to")
    if not isinstance(source, str) or not isinstance(target, str):
        raise CommandError(14, "renameCollection and to must be namespace strings")
    source_db, _, source_name = source.partition(".")
    target_db, _, target_name = target.partition(".")
    if not source_name or not target_name:
        raise CommandError(
            73, f"Invalid namespace specified '{source if not source_name else target}'"
        )
    if source_db != target_db:
        raise CommandError(
            20, "renaming a collection across databases is not supported by queryleaf serve"
        )
    database = call.engine.client.get_database(source_db)
    store = database._store
    if source_name not in store:
        raise CommandError(26, "source namespace does not exist")
    if target_name in store and not call.command.get("dropTarget"):
        raise CommandError(48, "target namespace exists")
    if source == target:
        raise CommandError(20, "Can't rename a collection to itself")
    database.rename_collection(
        source_name, target_name, dropTarget=bool(call.command.get("dropTarget"))
    )
    return {}


COMMANDS = {
    "create": Spec(_forward, logical=True),
    "drop": Spec(_forward, logical=True),
    "collMod": Spec(_forward, logical=True),
    "createIndexes": Spec(_forward, logical=True),
    "dropIndexes": Spec(_forward, logical=True),
    "dropDatabase": Spec(drop_database, logical=True),
    "renameCollection": Spec(rename_collection, logical=True),
    "listCollections": Spec(list_collections),
    "listIndexes": Spec(list_indexes),
}
