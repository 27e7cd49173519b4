"""Cheaper versions of two helpers mongomock-ng runs on every update, with the same results.

- `_clone_document` (the snapshot an update compares against, and `$set` values that are
  arrays) tested each value against a chain of `isinstance` checks; plain values, dicts and
  lists are now recognised by their exact type first, and anything else goes to the original.
- `_bson_encode` (the BSON check of every `$set` value and inserted document) converted the
  collection's codec options to pymongo's on each call; the conversion is now cached per
  options object (plain_inserts.codec_options).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bson import BSON, Decimal128, Int64, ObjectId
from mongomock_ng import collection as mongomock_collection
from mongomock_ng import helpers

from .plain_inserts import codec_options as converted_codec_options

# Values _clone_document returns as they are (exact types; subclasses take the original).
_SHARED = frozenset(
    {type(None), bool, int, float, str, bytes, dt.datetime, ObjectId, Decimal128, Int64}
)
_MARK = "_queryleaf_write_checks"
_original_clone = helpers._clone_document


def clone_document(value: Any) -> Any:
    """helpers._clone_document, with plain values, dicts and lists recognised by type."""
    kind = type(value)
    if kind in _SHARED:
        return value
    if kind is dict:
        return {k: v if type(v) in _SHARED else clone_document(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _SHARED else clone_document(v) for v in value]
    return _original_clone(value)


def bson_encode(document: Any, check_keys: bool, codec_options: Any) -> Any:
    """mongomock-ng's _bson_encode (its keyword names: it is called with them)."""
    if codec_options:
        converted = converted_codec_options(codec_options)
        if converted is not None:
            return BSON.encode(document, check_keys=check_keys, codec_options=converted)
        return None  # as mongomock-ng: options of another kind check nothing
    return BSON.encode(document, check_keys=check_keys)


def install() -> None:
    if getattr(mongomock_collection, _MARK, False):
        return
    mongomock_collection._clone_document = clone_document
    mongomock_collection._bson_encode = bson_encode
    setattr(mongomock_collection, _MARK, True)
