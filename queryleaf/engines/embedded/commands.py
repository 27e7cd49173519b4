"""MongoDB views and the DDL commands in the embedded engine.

mongomock-ng has no views and its `Database.command` runs only ping, isMaster and collMod.
Here:

- a view is a collection store whose options are `{viewOn, pipeline}` (so it is listed,
  and its name is taken, like on the server). Reading it (`find`, `aggregate`, counts,
  `distinct`, `$lookup`/`$unionWith` from it) runs its pipeline over the collection or view it
  is defined on first. Writes fail as on the server: inserts, updates and deletes with write
  error 166 (CommandNotSupportedOnView), index commands and findAndModify with command error
  166. `drop` removes the definition. Creating or modifying a view checks for cycles and the
  depth limit of 20, as the server's view graph does;
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
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from mongomock_ng import aggregate, filtering
from mongomock_ng.collection import Collection
from mongomock_ng.command_cursor import CommandCursor
from mongomock_ng.database import Database
from pymongo.errors import BulkWriteError, CollectionInvalid, OperationFailure, WriteError

from .client import read_documents

NAMESPACE_NOT_FOUND = 26
INDEX_NOT_FOUND = 27
INVALID_OPTIONS = 72
INVALID_NAMESPACE = 73
INDEX_OPTIONS_CONFLICT = 85
INDEX_KEY_SPECS_CONFLICT = 86
NAMESPACE_EXISTS = 48
GRAPH_CONTAINS_CYCLE = 93
VIEW_DEPTH_LIMIT_EXCEEDED = 149
OPTION_NOT_SUPPORTED_ON_VIEW = 157
COMMAND_NOT_SUPPORTED_ON_VIEW = 166

MAX_VIEW_DEPTH = 20

# Arguments any command may carry; they are not options of the command.
_GENERIC = {"writeConcern", "comment", "lsid", "$db", "txnNumber", "maxTimeMS", "$readPreference"}
_INDEX_OPTIONS = {"unique", "sparse", "expireAfterSeconds", "partialFilterExpression", "hidden"}

_state = threading.local()


# -- views ----------------------------------------------------------------------------------


def view_definition(db: Database, name: str) -> dict[str, Any] | None:
    """{viewOn, pipeline} when `name` is a view of `db`."""
    stores = db._store._collections
    store = stores.get(name)
    if store is None or not store.is_created or "viewOn" not in store.options:
        return None
    return store.options


def _namespace(db: Database, name: str) -> str:
    return f"{db.name}.{name}"


def _not_on_view(collection: Collection) -> OperationFailure:
    namespace = _namespace(collection.database, collection.name)
    return OperationFailure(
        f"Namespace {namespace} is a view, not a collection", code=COMMAND_NOT_SUPPORTED_ON_VIEW
    )


def _write_error(collection: Collection) -> WriteError:
    message = (
        f"Namespace {_namespace(collection.database, collection.name)} is a view, not a collection"
    )
    details = {"index": 0, "code": COMMAND_NOT_SUPPORTED_ON_VIEW, "errmsg": message}
    return WriteError(message, COMMAND_NOT_SUPPORTED_ON_VIEW, details)


def _view_documents(collection: Collection, definition: dict[str, Any]) -> list[dict]:
    """The view's documents: its pipeline over the documents of what it is defined on."""
    depth = getattr(_state, "depth", 0)
    if depth >= MAX_VIEW_DEPTH:
        raise OperationFailure(
            f"View depth too deep or view cycle detected. Maximum depth is {MAX_VIEW_DEPTH}",
            code=VIEW_DEPTH_LIMIT_EXCEEDED,
        )
    _state.depth = depth + 1
    try:
        database = collection.database
        source = read_documents(database.get_collection(definition["viewOn"]))
        pipeline = copy.deepcopy(definition.get("pipeline") or [])
        return list(aggregate.process_pipeline(source, database, pipeline, None))
    finally:
        _state.depth = depth


def _references(value: Any) -> Iterator[str]:
    """Collections and views a pipeline reads besides its source ($lookup, $unionWith,
    $graphLookup), at any depth ($facet, sub-pipelines)."""
    if isinstance(value, list):
        for item in value:
            yield from _references(item)
    elif isinstance(value, dict):
        for key, argument in value.items():
            if key in ("$lookup", "$graphLookup") and isinstance(argument, dict):
                if isinstance(argument.get("from"), str):
                    yield argument["from"]
            elif key == "$unionWith":
                if isinstance(argument, str):
                    yield argument
                elif isinstance(argument, dict) and isinstance(argument.get("coll"), str):
                    yield argument["coll"]
            yield from _references(argument)


def _check_view(db: Database, name: str, view_on: Any, pipeline: Any) -> list[dict]:
    """Validate a view definition as the server does; the pipeline to store."""
    if not isinstance(view_on, str):
        raise OperationFailure("'viewOn' option must be a string", code=INVALID_OPTIONS)
    if not view_on:
        raise OperationFailure("'viewOn' option must not be empty", code=INVALID_OPTIONS)
    if pipeline is None:
        pipeline = []
    if not isinstance(pipeline, list) or not all(isinstance(s, Mapping) for s in pipeline):
        raise OperationFailure("'pipeline' option must be an array", code=INVALID_OPTIONS)
    if name.startswith("system.") or view_on.startswith("system."):
        raise OperationFailure(
            f"Cannot create a view called '{_namespace(db, name)}' on '{_namespace(db, view_on)}'",
            code=INVALID_NAMESPACE,
        )
    for stage in _stages(pipeline):
        for writer in ("$out", "$merge"):
            if writer in stage:
                raise OperationFailure(
                    f"{writer} cannot be used in a view definition",
                    code=OPTION_NOT_SUPPORTED_ON_VIEW,
                )
    _check_graph(db, name, [view_on, *_references(pipeline)])
    return copy.deepcopy(list(pipeline))


def _stages(value: Any) -> Iterator[Mapping]:
    if isinstance(value, list):
        for item in value:
            if isinstance(item, Mapping):
                yield item
                yield from _stages(list(item.values()))
            elif isinstance(item, list):
                yield from _stages(item)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _stages(item if isinstance(item, list) else [item])


def _check_graph(db: Database, name: str, children: list[str]) -> None:
    """The server's view graph check for the view `name` reading `children`: no cycle
    through it, and at most 20 views on any path through it."""

    def refs(view: str) -> list[str]:
        if view == name:
            return children
        definition = view_definition(db, view)
        if definition is None:
            return []
        return [definition["viewOn"], *_references(definition.get("pipeline") or [])]

    def too_deep() -> OperationFailure:
        return OperationFailure(
            f"View depth limit exceeded; maximum depth is {MAX_VIEW_DEPTH}",
            code=VIEW_DEPTH_LIMIT_EXCEEDED,
        )

    def height_below(view: str, trail: list[str]) -> int:
        """Nodes on the longest path down from `view` to a collection, both included."""
        if len(trail) - 1 > MAX_VIEW_DEPTH:
            raise too_deep()
        height = 0
        for child in refs(view):
            if child == name:
                path = [*trail, child]
                shown = " => ".join(_namespace(db, v) for v in [path[-1], *reversed(path)])
                raise OperationFailure(f"View cycle detected: {shown}", code=GRAPH_CONTAINS_CYCLE)
            height = max(height, height_below(child, [*trail, child]))
        return height + 1

    views = [n for n in db._store._collections if view_definition(db, n) is not None]

    def height_above(view: str, depth: int) -> int:
        """Views on the longest path up from `view` (the views reading it), itself included."""
        if depth > MAX_VIEW_DEPTH:
            raise too_deep()
        parents = [v for v in views if v != view and view in refs(v)]
        return 1 + max((height_above(p, depth + 1) for p in parents), default=0)

    # The children's height includes the collection at the bottom; the view counts once.
    below = height_below(name, [name])  # cycles first, as the server checks
    diameter = height_above(name, 0) + below - 2
    if diameter > MAX_VIEW_DEPTH:
        raise too_deep()


def create_view(db: Database, name: str, view_on: Any, pipeline: Any) -> None:
    db._ensure_valid_collection_name(name)
    if name in db._store:
        raise OperationFailure(
            f"Collection already exists. NS: {_namespace(db, name)}", code=NAMESPACE_EXISTS
        )
    stored = _check_view(db, name, view_on, pipeline)
    store = db._store[name]
    store.options = {"viewOn": view_on, "pipeline": stored}
    store._is_force_created = True


def _drop_view(db: Database, name: str) -> None:
    # No change event: the server records a view's drop in system.views, which change
    # streams do not report.
    del db._store._collections[name]


# -- Database.command -----------------------------------------------------------------------


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
            f"Collection already exists. NS: {_namespace(db, name)}", code=NAMESPACE_EXISTS
        )
    db.create_collection(name, **options)
    return {"ok": 1.0}


def _command_drop(db: Database, command: dict[str, Any]) -> dict[str, Any]:
    name = command["drop"]
    namespace = _namespace(db, name)
    if name not in db._store:
        raise OperationFailure("ns not found", code=NAMESPACE_NOT_FOUND)
    if view_definition(db, name) is not None:
        _drop_view(db, name)
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
    stored = _check_view(db, name, view_on, pipeline)
    db._store[name].options = {"viewOn": view_on, "pipeline": stored}
    return {"ok": 1.0}


def _index_spec_options(spec: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in spec.items() if k in _INDEX_OPTIONS and v is not None}


def _command_create_indexes(db: Database, command: dict[str, Any]) -> dict[str, Any]:
    name = command["createIndexes"]
    collection = db[name]
    if view_definition(db, name) is not None:
        raise _not_on_view(collection)
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
        raise _not_on_view(collection)
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
            f"ns does not exist: {_namespace(db, name)}", code=NAMESPACE_NOT_FOUND
        )
    return _reply_cursor(_namespace(db, name), list(db[name].list_indexes()))


# -- installation ---------------------------------------------------------------------------


def _install() -> None:
    _patch_database()
    _patch_collection()


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
            _drop_view(self, name)
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
                f"cannot rename view: {_namespace(self, name)}",
                code=COMMAND_NOT_SUPPORTED_ON_VIEW,
            )
        return rename_collection(self, name, new_name, *args, **kwargs)

    Database.command = command_
    Database.create_collection = create_collection_
    Database.drop_collection = drop_collection_
    Database.list_collections = list_collections_
    Database.rename_collection = rename_collection_
    Database.list_collection_names = list_collection_names_


def _patch_collection() -> None:
    iter_documents = Collection._iter_documents
    insert, update, delete = Collection._insert, Collection._update, Collection._delete
    find_and_modify = Collection._find_and_modify

    def iter_documents_(self: Collection, filter: Any) -> Any:
        definition = view_definition(self.database, self.name)
        if definition is None:
            return iter_documents(self, filter)
        documents = _view_documents(self, definition)
        return (d for d in documents if filtering.filter_applies(filter or {}, d))

    def insert_(self: Collection, data: Any, *args: Any, **kwargs: Any) -> Any:
        if view_definition(self.database, self.name) is None:
            return insert(self, data, *args, **kwargs)
        if isinstance(data, Mapping):
            raise _write_error(self)
        # insert_many: pymongo reports the server's write errors as a BulkWriteError; an
        # ordered insert stops at the first document.
        documents = list(data)
        ordered = kwargs.get("ordered", args[1] if len(args) > 1 else True)
        errors = []
        for index, document in enumerate(documents[:1] if ordered else documents):
            error = dict(_write_error(self).details or {}, index=index, op=document)
            errors.append(error)
        raise BulkWriteError(
            {
                "writeErrors": errors,
                "writeConcernErrors": [],
                "nInserted": 0,
                "nUpserted": 0,
                "nMatched": 0,
                "nModified": 0,
                "nRemoved": 0,
                "upserted": [],
            }
        )

    def guarded(method: Callable[..., Any], error: Callable[[Collection], Exception]) -> Any:
        def run(self: Collection, *args: Any, **kwargs: Any) -> Any:
            if view_definition(self.database, self.name) is not None:
                raise error(self)
            return method(self, *args, **kwargs)

        run.__name__ = method.__name__
        run.__doc__ = method.__doc__
        return run

    Collection._iter_documents = iter_documents_
    Collection._insert = insert_
    Collection._update = guarded(update, _write_error)
    Collection._delete = guarded(delete, _write_error)
    Collection._find_and_modify = guarded(find_and_modify, _not_on_view)
    for name in ("create_indexes", "drop_index", "drop_indexes"):
        setattr(Collection, name, guarded(getattr(Collection, name), _not_on_view))
    create_index = guarded(Collection.create_index, _not_on_view)

    def create_index_(self: Collection, *args: Any, **kwargs: Any) -> Any:
        name = create_index(self, *args, **kwargs)
        # createIndexes creates a missing collection, which stays when the index is dropped.
        self._store._is_force_created = True
        return name

    Collection.create_index = create_index_
    list_indexes = Collection.list_indexes

    def list_indexes_(self: Collection, *args: Any, **kwargs: Any) -> Any:
        if view_definition(self.database, self.name) is not None:
            raise _not_on_view(self)
        return list_indexes(self, *args, **kwargs)

    Collection.list_indexes = list_indexes_


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
