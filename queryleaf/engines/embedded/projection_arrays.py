"""Find projections through arrays whose elements are not all documents.

`{"tags.x": 1}` on `tags: ["a", {"x": 1}]`: MongoDB keeps the documents of the array
(projected) and drops the other elements from an inclusion projection (`tags: [{"x": 1}]`);
an exclusion projection keeps them unchanged. mongomock-ng projected every element as a
document and raised AttributeError on a string. The wrapper answers for non-documents and
lets mongomock-ng project the documents (its recursion calls the module-level name, so it
goes through the wrapper)."""

from __future__ import annotations

from typing import Any

from mongomock_ng import collection as collection_module

_DROPPED = object()


def install() -> None:
    original = collection_module._project_by_spec
    if getattr(original, "_queryleaf", False):
        return

    def project(doc: Any, spec: Any, is_include: bool, container: Any, filter: Any = None) -> Any:
        if not isinstance(doc, dict):
            return _DROPPED if is_include else doc
        projected = original(doc, spec, is_include, container, filter)
        for key, value in projected.items():
            if isinstance(value, list) and any(item is _DROPPED for item in value):
                projected[key] = [item for item in value if item is not _DROPPED]
        return projected

    project._queryleaf = True  # type: ignore[attr-defined]
    collection_module._project_by_spec = project
