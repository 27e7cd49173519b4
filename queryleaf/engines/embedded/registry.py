"""The operators and stages the embedded engine evaluates itself instead of mongomock-ng.

Modules register handlers with the `operator` and `stage` decorators; `hooks.install` routes
mongomock-ng's expression parser and pipeline dispatcher to them. An operator handler receives a
`Scope` (the document and variables in force) and the operator's raw, unevaluated argument, so
it decides what to evaluate and when, like the server does ($cond, $switch, $let...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from mongomock_ng.aggregate import _Parser

from .values import MISSING, fail

OperatorHandler = Callable[["Scope", Any], Any]
# (input documents, database, stage argument, variables) -> output documents
StageHandler = Callable[[list[dict], Any, Any, dict | None], list[dict]]

OPERATORS: dict[str, OperatorHandler] = {}
STAGES: dict[str, StageHandler] = {}


def operator(*names: str) -> Callable[[OperatorHandler], OperatorHandler]:
    def register(handler: OperatorHandler) -> OperatorHandler:
        for name in names:
            OPERATORS[name] = handler
        return handler

    return register


def stage(name: str) -> Callable[[StageHandler], StageHandler]:
    def register(handler: StageHandler) -> StageHandler:
        STAGES[name] = handler
        return handler

    return register


class Scope:
    """Evaluation context: wraps mongomock-ng's parser (document + user variables)."""

    __slots__ = ("parser",)

    def __init__(self, parser: _Parser) -> None:
        self.parser = parser

    @classmethod
    def for_document(cls, document: dict, variables: dict | None = None) -> Scope:
        return cls(_Parser(document, user_vars=variables))

    @property
    def document(self) -> dict:
        return self.parser._doc_dict

    @property
    def variables(self) -> dict:
        return self.parser._user_vars

    def eval(self, expression: Any) -> Any:
        """Evaluate an expression; a missing field comes back as MISSING."""
        return self.parser.parse(expression)

    def eval_or_null(self, expression: Any) -> Any:
        value = self.parser.parse(expression)
        return None if value is MISSING else value

    def with_vars(self, **variables: Any) -> Scope:
        return Scope(_Parser(self.document, user_vars={**self.variables, **variables}))

    def args(self, name: str, argument: Any, low: int, high: int | None = None) -> list[Any]:
        """Evaluate an operator's positional arguments after checking how many there are.
        A single non-list argument counts as one argument."""
        items = argument if isinstance(argument, list) else [argument]
        high = low if high is None else high
        if not low <= len(items) <= high:
            expected = str(low) if low == high else f"{low} to {high}"
            fail(f"Expression {name} takes {expected} arguments. {len(items)} were passed in.")
        return [self.eval(item) for item in items]

    def named(
        self, name: str, argument: Any, required: Iterable[str], optional: Iterable[str] = ()
    ) -> dict[str, Any]:
        """The raw (unevaluated) named arguments of an object-form operator, validated."""
        if not isinstance(argument, dict):
            fail(f"{name} only supports an object as its argument")
        required = tuple(required)
        allowed = set(required) | set(optional)
        for key in argument:
            if key not in allowed:
                fail(f"{name} found an unknown argument: {key}")
        for key in required:
            if key not in argument:
                fail(f"Missing '{key}' parameter to {name}")
        return argument
