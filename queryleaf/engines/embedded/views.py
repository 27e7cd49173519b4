"""MongoDB views in the embedded engine (mongomock-ng has none).

A view is a collection store whose options are `{viewOn, pipeline}` (so it is listed, and its
name is taken, like on the server). Reading it (`find`, `aggregate`, counts, `distinct`,
`$lookup`/`$unionWith` from it) runs its pipeline over the collection or view it is defined on
first. Writes fail as on the server: inserts, updates and deletes with write error 166
(CommandNotSupportedOnView), index commands and findAndModify with command error 166. Creating
or modifying a view checks for cycles and the depth limit of 20, as the server's view graph
does. The commands that create, modify and drop views are in `commands`.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from mongomock_ng import aggregate, filtering
from mongomock_ng.collection import Collection
from mongomock_ng.database import Database
from pymongo.errors import BulkWriteError, OperationFailure, WriteError

from .client import read_documents

NAMESPACE_NOT_FOUND = 26
NAMESPACE_EXISTS = 48
INVALID_OPTIONS = 72
INVALID_NAMESPACE = 73
GRAPH_CONTAINS_CYCLE = 93
VIEW_DEPTH_LIMIT_EXCEEDED = 149
OPTION_NOT_SUPPORTED_ON_VIEW = 157
COMMAND_NOT_SUPPORTED_ON_VIEW = 166

MAX_VIEW_DEPTH = 20

_state = threading.local()


# -- definitions ----------------------------------------------------------------------------------


def view_definition(db: Database, name: str) -> dict[str, Any] | None:
    """{viewOn, pipeline} when `name` is a view of `db`."""
    stores = db._store._collections
    store = stores.get(name)
    if store is None or not store.is_created or "viewOn" not in store.options:
        return None
    return store.options


def namespace_of(db: Database, name: str) -> str:
    return f"{db.name}.{name}"


def not_on_view(collection: Collection) -> OperationFailure:
    namespace = namespace_of(collection.database, collection.name)
    return OperationFailure(
        f"Namespace {namespace} is a view, not a collection", code=COMMAND_NOT_SUPPORTED_ON_VIEW
    )


def _write_error(collection: Collection) -> WriteError:
    message = f"Namespace {namespace_of(collection.database, collection.name)} is a view, not a collection"
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


def check_view(db: Database, name: str, view_on: Any, pipeline: Any) -> list[dict]:
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
            f"Cannot create a view called '{namespace_of(db, name)}' on '{namespace_of(db, view_on)}'",
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
                shown = " => ".join(namespace_of(db, v) for v in [path[-1], *reversed(path)])
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
            f"Collection already exists. NS: {namespace_of(db, name)}", code=NAMESPACE_EXISTS
        )
    stored = check_view(db, name, view_on, pipeline)
    store = db._store[name]
    store.options = {"viewOn": view_on, "pipeline": stored}
    store._is_force_created = True


def drop_view(db: Database, name: str) -> None:
    # No change event: the server records a view's drop in system.views, which change
    # streams do not report.
    del db._store._collections[name]


# -- Database.command -----------------------------------------------------------------------


# -- reads and writes of views ---------------------------------------------------------------


def install_view_guards() -> None:
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
    Collection._find_and_modify = guarded(find_and_modify, not_on_view)
    for name in ("create_indexes", "drop_index", "drop_indexes"):
        setattr(Collection, name, guarded(getattr(Collection, name), not_on_view))
    create_index = guarded(Collection.create_index, not_on_view)

    def create_index_(self: Collection, *args: Any, **kwargs: Any) -> Any:
        name = create_index(self, *args, **kwargs)
        # createIndexes creates a missing collection, which stays when the index is dropped.
        self._store._is_force_created = True
        return name

    Collection.create_index = create_index_
    list_indexes = Collection.list_indexes

    def list_indexes_(self: Collection, *args: Any, **kwargs: Any) -> Any:
        if view_definition(self.database, self.name) is not None:
            raise not_on_view(self)
        return list_indexes(self, *args, **kwargs)

    Collection.list_indexes = list_indexes_
