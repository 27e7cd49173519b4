"""Collection names and field paths for completion, sampled in a background thread.

MongoDB has no schema, so the shell samples documents (`$sample`, or the first documents
when `$sample` is refused) and records every path it sees with its BSON types and how
often it occurs. Completion only reads the last finished snapshot, so the prompt never
waits on the database; the REPL asks for a refresh after writes."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

MAX_DEPTH = 6  # nested documents deeper than this are not walked
MAX_PATHS = 500  # per collection, so a document with thousands of keys stays cheap


@dataclass(frozen=True)
class FieldStats:
    """One path seen in a sample: in how many sampled documents, with which BSON types."""

    path: str
    present: int
    types: Mapping[str, int]

    def type_summary(self) -> str:
        if len(self.types) == 1:
            return next(iter(self.types))
        total = sum(self.types.values())
        ranked = sorted(self.types.items(), key=lambda item: (-item[1], item[0]))
        return ", ".join(f"{name} {round(100 * count / total)}%" for name, count in ranked)


@dataclass(frozen=True)
class CollectionInfo:
    name: str
    kind: str = "collection"  # or "view"
    sampled: int = 0
    fields: tuple[FieldStats, ...] = ()

    def paths(self) -> list[str]:
        """Paths completion offers: those that SQL can name as written (not inside arrays)."""
        return [stats.path for stats in self.fields if "[]" not in stats.path]


def bson_type(value: Any) -> str:
    """The BSON type name MongoDB's `$type` reports for `value`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int" if -(2**31) <= value < 2**31 else "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, (dt.datetime, dt.date)):
        return "date"
    names = {
        "ObjectId": "objectId",
        "Decimal128": "decimal",
        "Int64": "long",
        "Binary": "binData",
        "Regex": "regex",
        "Timestamp": "timestamp",
        "Decimal": "decimal",
        "bytes": "binData",
    }
    return names.get(type(value).__name__, type(value).__name__)


def field_stats(documents: Iterable[Mapping[str, Any]]) -> tuple[int, tuple[FieldStats, ...]]:
    """(number of documents, stats per path in first-seen order). Sub-documents give dotted
    paths (`address.city`); documents inside arrays give `items[].sku`."""
    present: Counter[str] = Counter()
    types: dict[str, Counter[str]] = {}
    total = 0
    for document in documents:
        total += 1
        seen: dict[str, set[str]] = {}
        _walk(document, "", 0, seen)
        for path, kinds in seen.items():
            if path not in types:
                if len(types) >= MAX_PATHS:
                    continue
                types[path] = Counter()
            present[path] += 1
            types[path].update(kinds)
    stats = tuple(FieldStats(path, present[path], dict(types[path])) for path in types)
    return total, stats


def _walk(value: Mapping[str, Any], prefix: str, depth: int, seen: dict[str, set[str]]) -> None:
    for key, item in value.items():
        path = f"{prefix}{key}"
        seen.setdefault(path, set()).add(bson_type(item))
        if depth >= MAX_DEPTH:
            continue
        if isinstance(item, Mapping):
            _walk(item, path + ".", depth + 1, seen)
        elif isinstance(item, list):
            for element in item:
                if isinstance(element, Mapping):
                    _walk(element, path + "[].", depth + 1, seen)


def sample_documents(db: Any, name: str, size: int) -> list[Mapping[str, Any]]:
    """Up to `size` documents of collection `name`: a random `$sample`, or the first ones
    when the server (or a view) refuses `$sample`."""
    collection = db[name]
    try:
        return list(collection.aggregate([{"$sample": {"size": size}}]))
    except Exception:
        return list(collection.find().limit(size))


def list_collections(db: Any) -> list[tuple[str, str]]:
    """(name, type) of every collection and view, system collections left out."""
    items = [
        (spec["name"], spec.get("type", "collection"))
        for spec in db.list_collections()
        if not spec["name"].startswith("system.")
    ]
    return sorted(items)


def describe(db: Any, name: str, size: int, kind: str = "collection") -> CollectionInfo:
    total, stats = field_stats(sample_documents(db, name, size))
    return CollectionInfo(name, kind, total, stats)


@dataclass
class _Snapshot:
    collections: dict[str, CollectionInfo] = field(default_factory=dict)
    subscriptions: list[str] = field(default_factory=list)


class SchemaCache:
    """Names for completion, refreshed by a daemon thread.

    `db` returns the current Database (the shell can switch databases); `lock`, when
    given, is held around each read so an engine that is not thread-safe (the embedded
    one) never runs a sample while a statement runs."""

    def __init__(
        self,
        db: Callable[[], Any],
        sample_size: int = 100,
        lock: AbstractContextManager[Any] | None = None,
    ) -> None:
        self._db = db
        self.sample_size = sample_size
        self._lock = lock if lock is not None else nullcontext()
        self._snapshot = _Snapshot()
        self._wanted = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._closed = False
        self._requests = 0
        self._done = 0
        self._guard = threading.Lock()
        self._only: set[str] | None = set()  # collections to sample again; None: all
        self.last_error: str | None = None
        self._thread: threading.Thread | None = None

    # -- reading (never touches the database) --

    def collections(self) -> list[str]:
        return list(self._snapshot.collections)

    def subscriptions(self) -> list[str]:
        """Names of the event subscriptions (from the event_subscriptions collection)."""
        return list(self._snapshot.subscriptions)

    def fields(self, name: str) -> list[str]:
        info = self._snapshot.collections.get(name)
        return info.paths() if info else []

    def info(self, name: str) -> CollectionInfo | None:
        return self._snapshot.collections.get(name)

    # -- refreshing --

    def refresh(self, names: Iterable[str] | None = None) -> None:
        """Ask for a refresh and return at once; requests made while one runs coalesce.
        With `names` only those collections are sampled again (after a write to them),
        plus any the list of collections shows for the first time."""
        with self._guard:
            if names is None or self._only is None:
                self._only = None
            else:
                self._only.update(names)
            self._requests += 1
            self._idle.clear()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="queryleaf-schema", daemon=True
                )
                self._thread.start()
        self._wanted.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every requested refresh has finished (for tests and `\\refresh`)."""
        return self._idle.wait(timeout)

    def refresh_now(self) -> None:
        """Refresh in the calling thread."""
        self._snapshot = self._load()

    def close(self) -> None:
        self._closed = True
        self._wanted.set()

    def _run(self) -> None:
        while not self._closed:
            self._wanted.wait()
            self._wanted.clear()
            if self._closed:
                break
            with self._guard:
                target = self._requests
                only, self._only = self._only, set()
            try:
                self._snapshot = self._load(only)
                self.last_error = None
            except Exception as error:  # keep the old names; the next refresh may work
                self.last_error = f"{type(error).__name__}: {error}"
            with self._guard:
                self._done = target
                if self._done >= self._requests:
                    self._idle.set()
        self._idle.set()

    def _load(self, only: set[str] | None = None) -> _Snapshot:
        db = self._db()
        with self._lock:
            names = list_collections(db)
            subscriptions = _subscription_names(db, names)
        known = self._snapshot.collections
        collections: dict[str, CollectionInfo] = {}
        for name, kind in names:
            if self._closed:
                break
            if only is not None and name not in only and name in known:
                collections[name] = known[name]  # unchanged since the last sample
                continue
            with self._lock:  # one collection at a time, so a statement waits at most that
                collections[name] = describe(db, name, self.sample_size, kind)
        return _Snapshot(collections, subscriptions)


def _subscription_names(db: Any, names: list[tuple[str, str]]) -> list[str]:
    from queryleaf.subscriptions.event_columns import SUBSCRIPTIONS

    if not any(name == SUBSCRIPTIONS for name, _ in names):
        return []
    return sorted(str(name) for name in db[SUBSCRIPTIONS].distinct("_id"))
