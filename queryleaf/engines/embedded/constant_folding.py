"""Expressions that do not read the document are evaluated once per pipeline run.

mongomock-ng evaluates every expression for every document. A part that reads no field and no
per-document variable (`{$dateSubtract: {startDate: "$$NOW", unit: "hour", amount: 24}}`, a
`$lookup`'s `let` variables inside its sub-pipeline, literals) has one value for the whole
run: it is computed when the pipeline starts and replaced by `{$literal: value}`. A part whose
evaluation fails, or that is not deterministic ($rand), is left as it is, so errors surface
exactly where they did. Applied to `$match` `$expr`, the computed fields of `$project`,
`$set`/`$addFields` and the keys and accumulator arguments of `$group`.
"""

from __future__ import annotations

from typing import Any

from .values import MISSING

_NONDETERMINISTIC = {"$rand", "$sampleRate", "$function", "$accumulator"}
_COMPUTED = ("$set", "$addFields", "$project")


def fold_pipeline(pipeline: list[Any], variables: dict[str, Any]) -> list[Any]:
    folder = _Folder(variables)
    out = []
    for stage in pipeline:
        if not isinstance(stage, dict) or len(stage) != 1:
            out.append(stage)
            continue
        (name, spec), = stage.items()  # fmt: skip
        if name == "$match" and isinstance(spec, dict) and "$expr" in spec:
            spec = {**spec, "$expr": folder.fold(spec["$expr"])}
        elif name in _COMPUTED and isinstance(spec, dict):
            spec = {key: _computed(folder, value) for key, value in spec.items()}
        elif name == "$group" and isinstance(spec, dict):
            spec = {key: _group_field(folder, key, value) for key, value in spec.items()}
        out.append({name: spec})
    return out


def _computed(folder: _Folder, value: Any) -> Any:
    """A projected field: operator documents fold; 1/0/true and nested inclusions stay."""
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)).startswith("$"):
        return folder.fold(value)
    return value


def _group_field(folder: _Folder, key: str, value: Any) -> Any:
    if key == "_id":
        if isinstance(value, dict) and not any(k.startswith("$") for k in value):
            return {name: folder.fold(part) for name, part in value.items()}
        return folder.fold(value)
    if isinstance(value, dict) and len(value) == 1:
        (accumulator, argument), = value.items()  # fmt: skip
        return {accumulator: folder.fold(argument)}
    return value


class _Folder:
    def __init__(self, variables: dict[str, Any]) -> None:
        self.variables = variables

    def fold(self, expression: Any) -> Any:
        if isinstance(expression, list):
            return [self.fold(item) for item in expression]
        if not isinstance(expression, dict) or not expression:
            return expression
        if len(expression) == 1:
            name = next(iter(expression))
            if name == "$literal":
                return expression
            if name.startswith("$") and self._independent(expression):
                value = self._evaluate(expression)
                if value is not MISSING:
                    return {"$literal": value}
                return expression
        return {key: self.fold(value) for key, value in expression.items()}

    def _independent(self, expression: Any) -> bool:
        if isinstance(expression, str):
            if expression.startswith("$$"):
                name = expression[2:].partition(".")[0]
                return name in self.variables and name not in ("ROOT", "CURRENT")
            return not expression.startswith("$")
        if isinstance(expression, list):
            return all(self._independent(item) for item in expression)
        if isinstance(expression, dict):
            for key, value in expression.items():
                if key in _NONDETERMINISTIC or key == "$meta":
                    return False
                if key == "$getField" and not (isinstance(value, dict) and "input" in value):
                    return False  # without `input` it reads $$CURRENT
                if key == "$literal":
                    continue
                if not self._independent(value):
                    return False
        return True

    def _evaluate(self, expression: Any) -> Any:
        from .registry import Scope

        try:
            return Scope.for_document({}, self.variables).eval(expression)
        except Exception:  # evaluated per document as before: the error surfaces there
            return MISSING
