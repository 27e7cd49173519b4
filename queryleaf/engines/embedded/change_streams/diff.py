"""`updateDescription` for an update event, from the document before and after the write.

mongomock-ng applies updates in place and keeps no log of what changed, so we diff. MongoDB
describes the two kinds of update differently, and so do we:

* Update operators ($set, $inc, $push, ...) are logged per operator path: a changed path that an
  operator targets is reported whole (`$set: {a: {x: 1}}` reports `a`, not `a.x`), except that
  elements appended to an existing array ($push, $addToSet) are reported as `arr.<index>`, and
  paths inside arrays ($set `arr.1.x`, positional `$`, `$[]`, `$[id]`) keep their indexes.
  Arrays that shrink ($pull, $pop) are reported whole.
* Pipeline updates are logged as a document diff: nested changes get dotted paths, array elements
  `arr.<index>`, and an array cut short is listed in `truncatedArrays` ({field, newSize}).

Values are compared by BSON type as well as value (1, 1.0 and true differ) and documents by
field order, as the server compares them.
"""

from __future__ import annotations

from typing import Any

# How an operator reports the path it targets.
_WHOLE, _APPEND = "whole", "append"
_APPENDING_OPERATORS = {"$push", "$addToSet"}
_POSITIONAL = "*"  # a path component matching any array index


def same(a: Any, b: Any) -> bool:
    """BSON equality: same type, same value, same field order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def update_description(before: dict, after: dict, update: Any) -> dict[str, Any]:
    """The updateDescription MongoDB reports for `update` (an operator document or a pipeline)
    having turned `before` into `after`."""
    report = _Report()
    if isinstance(update, list):
        report.diff_documents(before, after, ())
    else:
        report.targets = _targets(update if isinstance(update, dict) else {})
        report.diff_documents(before, after, ())
    return {
        "updatedFields": report.updated,
        "removedFields": report.removed,
        "truncatedArrays": report.truncated,
    }


def _targets(update: dict) -> dict[tuple[str, ...], str]:
    """Operator paths (components, positional operators as wildcards) and how each reports."""
    targets: dict[tuple[str, ...], str] = {}
    for operator, fields in update.items():
        if not isinstance(fields, dict):
            continue
        how = _APPEND if operator in _APPENDING_OPERATORS else _WHOLE
        paths = list(fields)
        if operator == "$rename":
            paths += [value for value in fields.values() if isinstance(value, str)]
        for path in paths:
            parts = tuple(_POSITIONAL if part.startswith("$") else part for part in path.split("."))
            targets[parts] = how
    return targets


def _matches(pattern: tuple[str, ...], path: tuple[str, ...]) -> bool:
    return all(
        p == q or (p == _POSITIONAL and q.isdigit()) for p, q in zip(pattern, path, strict=False)
    )


class _Report:
    def __init__(self) -> None:
        self.updated: dict[str, Any] = {}
        self.removed: list[str] = []
        self.truncated: list[dict[str, Any]] = []
        # None: a pipeline update (document diff); else the operator paths.
        self.targets: dict[tuple[str, ...], str] | None = None

    def diff_documents(self, before: dict, after: dict, prefix: tuple[str, ...]) -> None:
        moved = _moved(before, after)
        for name, value in after.items():
            path = (*prefix, name)
            if name not in before or name in moved:
                self.updated[".".join(path)] = value
            elif not same(before[name], value):
                self.changed(path, before[name], value)
        for name in before:
            if name not in after:
                self.removed.append(".".join((*prefix, name)))

    def changed(self, path: tuple[str, ...], before: Any, after: Any) -> None:
        if self.targets is None:
            self._diff_value(path, before, after)
            return
        how = self._target(path)
        if how == _APPEND and _extends(before, after):
            self._appended(path, before, after)
        elif how is None and self._contains_target(path):
            # Descend towards the operator's path (`a.b.c` reports `a.b.c`, not `a`).
            if isinstance(before, dict) and isinstance(after, dict):
                self.diff_documents(before, after, path)
                return
            if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
                for index, (old, new) in enumerate(zip(before, after, strict=True)):
                    if not same(old, new):
                        self.changed((*path, str(index)), old, new)
                return
            self.updated[".".join(path)] = after
        else:
            self.updated[".".join(path)] = after

    def _diff_value(self, path: tuple[str, ...], before: Any, after: Any) -> None:
        """A pipeline update's document diff."""
        if isinstance(before, dict) and isinstance(after, dict):
            self.diff_documents(before, after, path)
        elif isinstance(before, list) and isinstance(after, list):
            for index, (old, new) in enumerate(zip(before, after, strict=False)):
                if not same(old, new):
                    element = (*path, str(index))
                    if type(old) is type(new) and isinstance(new, dict | list):
                        self._diff_value(element, old, new)
                    else:
                        self.updated[".".join(element)] = new
            if len(after) > len(before):
                self._appended(path, before, after)
            elif len(after) < len(before):
                self.truncated.append({"field": ".".join(path), "newSize": len(after)})
        else:
            self.updated[".".join(path)] = after

    def _appended(self, path: tuple[str, ...], before: list, after: list) -> None:
        for index in range(len(before), len(after)):
            self.updated[".".join((*path, str(index)))] = after[index]

    def _target(self, path: tuple[str, ...]) -> str | None:
        assert self.targets is not None
        for pattern, how in self.targets.items():
            if len(pattern) == len(path) and _matches(pattern, path):
                return how
        return None

    def _contains_target(self, path: tuple[str, ...]) -> bool:
        assert self.targets is not None
        return any(len(p) > len(path) and _matches(p, path) for p in self.targets)


def _moved(before: dict, after: dict) -> set[str]:
    """Fields kept but no longer in their old order (from the first out-of-place one on): a
    document diff rewrites them, since field order is part of a BSON document."""
    kept_before = [name for name in before if name in after]
    kept_after = [name for name in after if name in before]
    for index, (old, new) in enumerate(zip(kept_before, kept_after, strict=True)):
        if old != new:
            return set(kept_after[index:])
    return set()


def _extends(before: Any, after: Any) -> bool:
    """`after` is `before` with elements appended."""
    return (
        isinstance(before, list)
        and isinstance(after, list)
        and len(after) > len(before)
        and same(before, after[: len(before)])
    )
