"""A document update that cannot apply fails as MongoDB's does: with a write error
(PathNotViable, code 28, e.g. `SET tags.x = 1` where tags is an array of strings), and the
document unchanged. mongomock-ng raised ValueError, KeyError or TypeError from the middle of
an update, after it had changed some fields of the stored document in place.

As in MongoDB, a multi-document UPDATE applies per document: documents updated before the
failing one keep their change (docs/errors.md says so)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from mongomock_ng import WriteError
from mongomock_ng.collection import Collection

from .change_streams.events import clone

PYTHON_ERRORS = (ValueError, KeyError, TypeError, AttributeError, IndexError)


def _restoring(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def apply(self: Collection, existing: dict, *args: Any, **kwargs: Any) -> Any:
        before = clone(existing)  # containers copied, immutable scalars shared
        try:
            return method(self, existing, *args, **kwargs)
        except PYTHON_ERRORS as error:
            existing.clear()
            existing.update(before)
            raise WriteError(
                f"Cannot apply the update to the document {existing.get('_id')!r}: "
                f"{type(error).__name__} {error}",
                28,
            ) from None

    apply._queryleaf_restoring = True  # type: ignore[attr-defined]
    return apply


def install() -> None:
    for name in ("_apply_update_document", "_apply_update_pipeline"):
        method = getattr(Collection, name)
        if not getattr(method, "_queryleaf_restoring", False):
            setattr(Collection, name, _restoring(method))
