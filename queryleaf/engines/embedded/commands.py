"""The DDL commands in the embedded engine (mongomock-ng's `Database.command` runs only ping,
isMaster and collMod), and the installation of views (`views`). Here:

- `drop` removes a view's definition, `create` makes one (checked as in `views`);
- `listCollections` reports views with type "view", their options and `readOnly: true`,
  and filters on any field of the entries (type, options...);
- `Database.command` also runs create (collections and views), drop, collMod (a view's viewOn
  and pipeline), createIndexes, dropIndexes, listCollections and listIndexes, with the
  server's replies and error codes.

Importing this module installs it (hooks.install imports it once).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from typing import Any

from mongomock_ng import filtering
from mongomock_ng.command_cursor import CommandCursor
from mongomock_ng.database import Database
from pymongo.errors import CollectionInvalid, OperationFailure

from .views import (
    COMMAND_NOT_SUPPORTED_ON_VIEW,
    INVALID_OPTIONS,
    NAMESPACE_EXISTS,
    NAMESPACE_NOT_FOUND,
    check_view,
    create_view,
    drop_view,
    install_view_guards,
    namespace_of,
    not_on_view,
    view_definition,
)

INDEX_NOT_FOUND = 27
INDEX_OPTIONS_CONFLICT = 85
INDEX_KEY_SPECS_CONFLICT = 86

# Arguments any command may carry; they are not options of the command.
_GENERIC = {"writeConcern", "comment", "lsid", "$db", "txnNumber", "maxTimeMS", "$readPreference"}
_INDEX_OPTIONS = {"unique", "sparse", "expireAfterSeconds", "partialFilterExpression", "hidden"}

_state = threading.local()


def _reply_cursor(namespace: str, documents: list[dict]) -> dict[str, Any]:
    return {"cursor": {"id": 0, "ns": namespace, "firstBatch": documents}, "ok": 1.0}


def _command_create(db: Database, command: dict[str, Any]) -> dict[str, Any]:
    name = command["create"]
    options = {k: v for k, v in command.items() if k != "create" and k not in _GENERIC}
    if "viewOn" in options or "pipeline" in options:
        if "viewOn" not in options:
            raise OperationFailure(
                "'pipeline' requires 'viewOn' to also be specified", code=INVALID_OPTIONS
            )
        rest = set(options) - {"viewOn", "pipeline"}
        if rest:
            raise OperationFailure(
                f"option not supported on a view: {sorted(rest)[0]}",
                code=INVALID_OPTIONS,
            )
        create_view(db, name, options["viewOn"], options.get("pipeline"))
        return {"ok": 1.0}
    if name in db._store:
        raise OperationFailure(
            f"Collection already exists. NS: {namespace_of(db, name)}", code=NAMESPACE_EXISTS
        )
    db.create_collection(name, **options)
    return {"ok": 1.0}


def _command_drop(db: Database, command: dict[str, Any]) -> dict[str, Any]:
    name = command["drop"]
    namespace = namespace_of(db, name)
    if name not in db._store:
        raise OperationFailure("ns not found", code=NAMESPACE_NOT_FOUND)
    if view_definition(db, name) is not None:
        drop_view(db, name)
        return {"ns": namespace, "ok": 1.0}
    indexes = len(list(db[name].list_indexes()))
    db.drop_collection(name)
    return {"nIndexesWas": indexes, "ns": namespace, "ok": 1.0}


def _command_collmod(
    db: Database, command: dict[str, Any], original: Callable[..., Any]
) -> dict[str, Any]:
    name = command["collMod"]
    options = {k: v for k, v in command.items() if k != "collMod" and k not in _GENERIC}
    definition = view_definition(db, name)
    if definition is None:
        for option in ("viewOn", "pipeline"):
            if option in options and name in db._store:
                raise OperationFailure(
                    f"'{option}' option only supported on a view", code=INVALID_OPTIONS
                )
        return original(db, {"collMod": name, **options})
    for option in options:
        if option not in ("viewOn", "pipeline"):
            raise OperationFailure(
                f"option not supported on a view: {option}", code=INVALID_OPTIONS
            )
    view_on = options.get("viewOn", definition["viewOn"])
    pipeline = options.get("pipeline", definition.get("pipeline"))
    stored = check_view(db, name, view_on, pipeline)
    db._store[name].options = {"viewOn": view_on, "pipeline": stored}
    return {"ok": 1.0}


def _index_spec_options(spec: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in spec.items() if k in _INDEX_OPTIONS and v is not None}


def _command_create_indexes(db: Database, command: dict[str, Any]) -> dict[str, Any]:
    name = command["createIndexes"]
    collection = db[name]
    if view_definition(db, name) is not None:
        raise not_on_view(collection)
    specs = command.get("indexes")
    if not isinstance(specs, list) or not specs:
        raise OperationFailure("Must specify at least one index to create", code=2)
    existed = name in db._store
    # A collection created by the command has its _id index first.
    before = len(list(collection.list_indexes())) if existed else 1
    existing = {index["name"]: index for index in collection.list_indexes()}
    created = 0
    for spec in specs:
        key = spec.get("key")
        index_name = spec.get("name")
        if not isinstance(key, Mapping) or not key:
            raise OperationFailure("The 'key' field must be a non-empty object", code=2)
        if not isinstance(index_name, str) or not index_name:
            raise OperationFailure("The 'name' field must be a non-empty string", code=2)
        unknown = set(spec) - _INDEX_OPTIONS - {"key", "name", "v"}
        if unknown:
            raise OperationFailure(
                f"The field '{sorted(unknown)[0]}' is not valid for an index specification.",
                code=197,  # InvalidIndexSpecificationOption
            )
        wanted = {"key": dict(key), **_index_spec_options(spec)}
        same_name = existing.get(index_name)
        if same_name is not None:
            found = {"key": dict(same_name["key"]), **_index_spec_options(same_name)}
            if found == wanted:
                continue
            raise OperationFailure(
                "An existing index has the same name as the requested index. When index "
                "names are not specified, they are auto generated and can cause conflicts. "
                "Please refer to our documentation. Requested index: "
                f'{{ v: 2, key: {dict(key)}, name: "{index_name}" }}, existing index: '
                f'{{ v: 2, key: {dict(same_name["key"])}, name: "{index_name}" }}',
                code=INDEX_KEY_SPECS_CONFLICT,
            )
        for other in existing.values():
            if dict(other["key"]) == dict(key):
                raise OperationFailure(
                    f"Index already exists with a different name: {other['name']}",
                    code=INDEX_OPTIONS_CONFLICT,
                )
        options = _index_spec_options(spec)
        hidden = options.pop("hidden", None)
        collection.create_index(list(key.items()), name=index_name, **options)
        if hidden is not None:
            collection._store.indexes[index_name]["hidden"] = hidden
        existing[index_name] = {"name": index_name, "key": dict(key), **_index_spec_options(spec)}
        created += 1
    reply: dict[str, Any] = {
        "numIndexesBefore": before,
        "numIndexesAfter": before + created,
        "createdCollectionAutomatically": not existed,
        "ok": 1.0,
    }
    if not created:
        reply["note"] = "all indexes already exist"
    return reply


def _command_drop_indexes(db: Database, command: dict[str, Any]) -> dict[str, Any]:
    name = command["dropIndexes"]
    collection = db[name]
    if name not in db._store:
        raise OperationFailure("ns not found", code=NAMESPACE_NOT_FOUND)
    if view_definition(db, name) is not None:
        raise not_on_view(collection)
    indexes = {index["name"]: index for index in collection.list_indexes()}
    was = len(indexes)
    target = command.get("index")
    if target == "*":
        collection.drop_indexes()
        return {"nIndexesWas": was, "msg": "non-_id indexes dropped for collection", "ok": 1.0}
    names = target if isinstance(target, list) else [target]
    resolved = []
    for item in names:
        if isinstance(item, Mapping):
            matches = [n for n, ix in indexes.items() if dict(ix["key"]) == dict(item)]
            if not matches:
                raise OperationFailure(
                    f"can't find index with key: {dict(item)}", code=INDEX_NOT_FOUND
                )
            item = matches[0]
        if item == "_id_":
            raise OperationFailure("cannot drop _id index", code=INVALID_OPTIONS)
        if item not in indexes:
            raise OperationFailure(f"index not found with name [{item}]", code=INDEX_NOT_FOUND)
        resolved.append(item)
    for item in resolved:
        collection.drop_index(item)
    return {"nIndexesWas": was, "ok": 1.0}


def _command_list_collections(db: Database, command: dict[str, Any]) -> dict[str, Any]:
    entries = list(
        db.list_collections(filter=command.get("filter"), nameOnly=bool(command.get("nameOnly")))
    )
    return _reply_cursor(f"{db.name}.$cmd.listCollections", entries)


def _command_list_indexes(db: Database, command: dict[str, Any]) -> dict[str, Any]:
    name = command["listIndexes"]
    if name not in db._store:
        raise OperationFailure(
            f"ns does not exist: {namespace_of(db, name)}", code=NAMESPACE_NOT_FOUND
        )
    return _reply_cursor(namespace_of(db, name), list(db[name].list_indexes()))


# -- installation ---------------------------------------------------------------------------


def _install() -> None:
    _patch_database()
    install_view_guards()


def _patch_database() -> None:
    command = Database.command
    create_collection = Database.create_collection
    drop_collection = Database.drop_collection
    list_collections = Database.list_collections
    rename_collection = Database.rename_collection
    list_collection_names = Database.list_collection_names

    def command_(
        self: Database, command_doc: Any, value: Any = 1, *args: Any, **kwargs: Any
    ) -> Any:
        document = {command_doc: value} if isinstance(command_doc, str) else dict(command_doc)
        name = next(iter(document), None)
        handler = _COMMANDS.get(name)  # type: ignore[arg-type]
        if handler is None:
            return command(self, command_doc, value, *args, **kwargs)
        for option in ("check", "allowable_errors", "read_preference", "codec_options", "session"):
            kwargs.pop(option, None)
        document.update(kwargs)
        return handler(self, document)

    def create_collection_(self: Database, name: str, *args: Any, **kwargs: Any) -> Any:
        if "viewOn" in kwargs or "pipeline" in kwargs:
            if name in self._store:
                raise CollectionInvalid(f"collection {name} already exists")
            kwargs.pop("session", None)
            view_on, pipeline = kwargs.pop("viewOn", None), kwargs.pop("pipeline", None)
            if kwargs:
                raise OperationFailure(
                    f"option not supported on a view: {sorted(kwargs)[0]}",
                    code=INVALID_OPTIONS,
                )
            create_view(self, name, view_on, pipeline)
            return self[name]
        return create_collection(self, name, *args, **kwargs)

    def drop_collection_(self: Database, name_or_collection: Any, *args: Any, **kwargs: Any) -> Any:
        name = getattr(name_or_collection, "name", name_or_collection)
        if isinstance(name, str) and view_definition(self, name) is not None:
            drop_view(self, name)
            return None
        result = drop_collection(self, name_or_collection, *args, **kwargs)
        # mongomock-ng kept a dropped collection's options (its validator went on checking
        # the documents of a collection re-created under the same name).
        store = self._store._collections.get(name) if isinstance(name, str) else None
        if store is not None and not store.is_created:
            store.options = {}
        return result

    def list_collections_(
        self: Database,
        filter: Any = None,
        session: Any = None,
        nameOnly: bool = False,
        **unused: Any,
    ) -> CommandCursor:
        wanted = dict(filter or {})
        by_name = {"name": wanted.pop("name")} if "name" in wanted else None
        entries = []
        for entry in list_collections(self, filter=by_name, session=session):
            entry = dict(entry)
            store = self._store._collections.get(entry["name"])
            definition = view_definition(self, entry["name"])
            if definition is not None:
                entry["type"] = "view"
                entry["options"] = copy.deepcopy(dict(definition))
                entry["info"] = {"readOnly": True}
            elif store is not None and not nameOnly:
                entry["options"] = copy.deepcopy(store.options)
            if wanted and not filtering.filter_applies(wanted, entry):
                continue
            if nameOnly:
                entry = {"name": entry["name"], "type": entry.get("type", "collection")}
            entries.append(entry)
        return CommandCursor(entries)

    def list_collection_names_(
        self: Database,
        filter: Any = None,
        session: Any = None,
        **unused: Any,
    ) -> list[str]:
        # With a filter mongomock-ng also listed names that were only looked up.
        names = list_collection_names(self, filter=filter, session=session)
        stores = self._store._collections
        return [name for name in names if name in stores and stores[name].is_created]

    def rename_collection_(
        self: Database, name: str, new_name: str, *args: Any, **kwargs: Any
    ) -> Any:
        if view_definition(self, name) is not None:
            raise OperationFailure(
                f"cannot rename view: {namespace_of(self, name)}",
                code=COMMAND_NOT_SUPPORTED_ON_VIEW,
            )
        return rename_collection(self, name, new_name, *args, **kwargs)

    Database.command = command_
    Database.create_collection = create_collection_
    Database.drop_collection = drop_collection_
    Database.list_collections = list_collections_
    Database.rename_collection = rename_collection_
    Database.list_collection_names = list_collection_names_


_COMMANDS: dict[str, Callable[[Database, dict[str, Any]], dict[str, Any]]] = {
    "create": _command_create,
    "drop": _command_drop,
    "collMod": lambda db, command: _command_collmod(db, command, Database._command_collmod),
    "createIndexes": _command_create_indexes,
    "dropIndexes": _command_drop_indexes,
    "listCollections": _command_list_collections,
    "listIndexes": _command_list_indexes,
}

_MARK = "_queryleaf_views_installed"
if not getattr(Database, _MARK, False):
    _install()
    setattr(Database, _MARK, True)
