"""Document `_id`s as MongoDB takes them: a document `_id` is a valid key in every path
(mongomock-ng hashed it on insert only, so an UPDATE of such a document raised TypeError),
and an array `_id` is refused as MongoDB refuses it (code 53) instead of raising TypeError."""

from __future__ import annotations

from typing import Any

from mongomock_ng import helpers, store

from .values import fail


def _key(key: Any) -> Any:
    if type(key) is dict:
        return helpers.hashdict(key)
    if isinstance(key, list):
        fail("The '_id' value cannot be of type array", code=53)
    return key


def install() -> None:
    """Idempotent; run after the change-stream capture patched the store (it wraps it)."""
    cls = store.CollectionStore
    if getattr(cls.__setitem__, "_queryleaf_ids", False):
        return
    get, set_, contains, delete = (
        cls.__getitem__,
        cls.__setitem__,
        cls.__contains__,
        cls.__delitem__,
    )

    def getitem(self: Any, key: Any) -> Any:
        return get(self, _key(key))

    def setitem(self: Any, key: Any, value: Any) -> None:
        set_(self, _key(key), value)

    def contains_(self: Any, key: Any) -> bool:
        return contains(self, _key(key))

    def delitem(self: Any, key: Any) -> None:
        delete(self, _key(key))

    setitem._queryleaf_ids = True  # type: ignore[attr-defined]
    cls.__getitem__ = getitem  # type: ignore[method-assign]
    cls.__setitem__ = setitem  # type: ignore[method-assign]
    cls.__contains__ = contains_  # type: ignore[method-assign]
    cls.__delitem__ = delitem  # type: ignore[method-assign]
