"""The `changeStreamPreAndPostImages` collection option: accepted by create and collMod,
validated like the server's IDL parser does, and reported by listCollections (mongomock-ng
reports `options: {}` for every collection), which is where callers check for pre-images."""

from __future__ import annotations

import copy
from typing import Any

from mongomock_ng import OperationFailure
from mongomock_ng.command_cursor import CommandCursor
from mongomock_ng.database import Database

from .capture import PRE_AND_POST_IMAGES


def check_option(value: Any) -> None:
    field = PRE_AND_POST_IMAGES
    if not isinstance(value, dict):
        raise OperationFailure(
            f"BSON field '{field}' is the wrong type '{type(value).__name__}', expected type "
            "'object'",
            code=14,  # TypeMismatch
        )
    for name in value:
        if name != "enabled":
            raise OperationFailure(f"BSON field '{field}.{name}' is an unknown field.", code=40415)
    if "enabled" not in value:
        raise OperationFailure(
            f"BSON field '{field}.enabled' is missing but a required field", code=40414
        )
    if not isinstance(value["enabled"], bool):
        raise OperationFailure(
            f"BSON field '{field}.enabled' is the wrong type "
            f"'{type(value['enabled']).__name__}', expected type 'bool'",
            code=14,
        )


def install() -> None:
    create_collection, collmod = Database.create_collection, Database._command_collmod
    list_collections = Database.list_collections

    def create_collection_(self: Database, name: str, *args: Any, **kwargs: Any) -> Any:
        if PRE_AND_POST_IMAGES in kwargs:
            check_option(kwargs[PRE_AND_POST_IMAGES])
        return create_collection(self, name, *args, **kwargs)

    def command_collmod(self: Database, command: dict) -> Any:
        if PRE_AND_POST_IMAGES in command:
            check_option(command[PRE_AND_POST_IMAGES])
        return collmod(self, command)

    def list_collections_(self: Database, *args: Any, **kwargs: Any) -> CommandCursor:
        # Wraps whatever listCollections is installed (views report their own options).
        entries = []
        for entry in list_collections(self, *args, **kwargs):
            collection = self._store._collections.get(entry.get("name"))
            if entry.get("type") == "collection" and "options" in entry and collection:
                entry = {**entry, "options": copy.deepcopy(collection.options)}
            entries.append(entry)
        return CommandCursor(entries)

    Database.create_collection = create_collection_
    Database._command_collmod = command_collmod
    Database.list_collections = list_collections_
