"""Expressions compiled once into Python closures, then evaluated per document.

The interpreter (`_Parser.parse` patched by `hooks`) walks an expression document for every
document a stage reads: it dispatches on the operator name, wraps the document in a parser and a
`Scope`, and resolves every field path through mongomock-ng's generic lookup. `compile_expression`
does that walk once and returns `fn(document, variables)`, which computes exactly what
`_Parser(document, user_vars=variables).parse(expression)` computes (same values, same errors,
same evaluation order and laziness):

- literals, `$field.paths`, `$$variables`, arrays and object literals are closures of their own;
- `$cond`, `$ifNull`, `$switch`, `$and`, `$or`, `$let`, `$literal` and the comparisons are
  closures over their compiled operands;
- every other operator of the engine (`registry.OPERATORS`) runs its own handler, with a scope
  whose `eval` finds the compiled closure of each operand it is handed (by identity);
- anything else, and any expression that is malformed (whose error must surface when a
  document is evaluated, as before), is left to the interpreter.

`evaluate` is the entry point the stages use: within one pipeline run (`pipeline_cache`) an
expression object evaluated a second time is compiled and its closure kept for the rest of
the run; outside a pipeline run it interprets.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import mongomock_ng
from mongomock_ng import OperationFailure, helpers
from mongomock_ng.aggregate import _Parser
from packaging import version

from . import registry
from .operators_compare import _TESTS
from .ordering import compare
from .values import MISSING, fail, utc_now

Compiled = Callable[[Any, dict], Any]

_get_value_by_dot = helpers.get_value_by_dot
_OLD_SERVER = version.parse(mongomock_ng.SERVER_VERSION) <= version.parse("4.4")


def compile_expression(expression: Any) -> Compiled:
    """`fn(document, variables)` equal to interpreting `expression` on that document."""
    return _Compiler().compile(expression)


def compile_many(expressions: list[Any]) -> list[Compiled]:
    """Several expressions of one stage, compiled together (shared sub-expressions once)."""
    compiler = _Compiler()
    return [compiler.compile(expression) for expression in expressions]


def interpret(expression: Any, document: Any, variables: dict | None) -> Any:
    return _Parser(document, user_vars=variables).parse(expression)


# -- the per-pipeline cache ------------------------------------------------------------------

_local = threading.local()
_CACHE_LIMIT = 4096  # distinct expression objects remembered per pipeline run
# Compiled from its second evaluation: one document (a point lookup) is not worth compiling
# for. The tests also run the engine's suite with 1, so that every expression is compiled.
COMPILE_AT = 2


@contextmanager
def pipeline_cache() -> Iterator[None]:
    """Compiled expressions for the duration of one pipeline run. The run's pipeline is a
    private copy made when it starts, so an expression object keeps its meaning throughout."""
    stack = _local.__dict__.setdefault("stack", [])
    stack.append({})
    try:
        yield
    finally:
        stack.pop()


def evaluate(expression: Any, document: Any, user_vars: dict | None = None) -> Any:
    """`expression` on `document`: interpreted the first time a pipeline run evaluates this
    expression object (COMPILE_AT), then compiled and the closure reused."""
    stack = getattr(_local, "stack", None)
    if not stack:
        return interpret(expression, document, user_vars)
    cache = stack[-1]
    entry = cache.get(id(expression))
    if entry is None:
        if len(cache) >= _CACHE_LIMIT:
            return interpret(expression, document, user_vars)
        entry = cache[id(expression)] = [expression, 0, None]
    function = entry[2]
    if function is None:
        entry[1] += 1
        if entry[1] < COMPILE_AT:
            return interpret(expression, document, user_vars)
        function = entry[2] = compile_expression(expression)
    return function(document, user_vars or {})


# -- the compiler ----------------------------------------------------------------------------


class _FastScope(registry.Scope):
    """What an operator handler sees: its operands are evaluated through their compiled
    closures (found by identity); anything else it evaluates is interpreted."""

    __slots__ = ("doc", "table", "vars")

    def __init__(self, doc: Any, variables: dict, table: dict[int, Compiled]) -> None:
        self.doc = doc
        self.vars = variables
        self.table = table

    @property
    def parser(self) -> _Parser:  # type: ignore[override]
        return _Parser(self.doc, user_vars=self.vars)

    @property
    def document(self) -> Any:
        return self.doc

    @property
    def variables(self) -> dict:
        return self.vars

    def eval(self, expression: Any) -> Any:
        function = self.table.get(id(expression))
        if function is not None:
            return function(self.doc, self.vars)
        return _Parser(self.doc, user_vars=self.vars).parse(expression)

    def eval_or_null(self, expression: Any) -> Any:
        value = self.eval(expression)
        return None if value is MISSING else value

    def args(self, name: str, argument: Any, low: int, high: int | None = None) -> list[Any]:
        """As `Scope.args` (the same count check first), with one lookup per operand."""
        items = argument if isinstance(argument, list) else [argument]
        high = low if high is None else high
        if not low <= len(items) <= high:
            return super().args(name, argument, low, high)  # raises the count error
        doc, variables, table = self.doc, self.vars, self.table
        values = []
        for item in items:
            function = table.get(id(item))
            if function is None:
                values.append(_Parser(doc, user_vars=variables).parse(item))
            else:
                values.append(function(doc, variables))
        return values

    def with_vars(self, **variables: Any) -> registry.Scope:
        return _FastScope(self.doc, {**self.vars, **variables}, self.table)


class _Compiler:
    def __init__(self) -> None:
        # id(node) -> closure, for every node compiled; the nodes belong to the expressions
        # compiled, which the closures keep alive, so an id cannot be reused meanwhile.
        self.table: dict[int, Compiled] = {}
        self.keep: list[Any] = []

    def compile(self, node: Any) -> Compiled:
        function = self.table.get(id(node))
        if function is None:
            self.keep.append(node)
            function = self._compile(node)
            self.table[id(node)] = function
        return function

    def _compile(self, node: Any) -> Compiled:
        if isinstance(node, dict):
            return self._compile_document(node)
        if isinstance(node, str):
            return _compile_string(node)
        if isinstance(node, list):
            items = [self.compile(item) for item in node]

            def array(doc: Any, variables: dict) -> Any:
                values = []
                for item in items:
                    value = item(doc, variables)
                    values.append(None if value is MISSING else value)
                return values

            return array
        return lambda doc, variables: node

    def _compile_document(self, node: dict) -> Compiled:
        if len(node) == 1:
            name = next(iter(node))
            argument = node[name]
            special = _SPECIAL.get(name)
            if special is not None and (name in _TESTS or name not in registry.OPERATORS):
                compiled = special(self, argument)
                if compiled is not None:
                    return compiled
            elif name in registry.OPERATORS:
                return self._handler(registry.OPERATORS[name], argument)
        if node and all(isinstance(key, str) and not key.startswith("$") for key in node):
            fields = [(key, self.compile(value)) for key, value in node.items()]

            def literal(doc: Any, variables: dict) -> dict:
                result = {}
                for key, field in fields:
                    value = field(doc, variables)
                    if value is not MISSING:
                        result[key] = value
                return result

            return literal
        return _interpreted(node)

    def _handler(self, handler: registry.OperatorHandler, argument: Any) -> Compiled:
        self._operands(argument)
        table = self.table

        def run(doc: Any, variables: dict) -> Any:
            return handler(_FastScope(doc, variables, table), argument)

        # The table is keyed by id: the nodes it names must live as long as it is used.
        run.nodes = self.keep  # type: ignore[attr-defined]
        return run

    def _operands(self, argument: Any) -> None:
        """Compile whatever a handler may evaluate: its argument, and the elements of the
        arrays and plain objects (named arguments, branches) it is made of."""
        self.compile(argument)
        if isinstance(argument, list):
            for item in argument:
                self._operands(item)
        elif isinstance(argument, dict) and not any(
            isinstance(key, str) and key.startswith("$") for key in argument
        ):
            for item in argument.values():
                self._operands(item)


def _interpreted(node: Any) -> Compiled:
    return lambda doc, variables: _Parser(doc, user_vars=variables).parse(node)


def _compile_string(node: str) -> Compiled:
    if node.startswith("$$"):
        return _variable(node[2:])
    if node.startswith("$"):
        path = node[1:]
        if "." in path:
            return lambda doc, variables: _get_value_by_dot(doc, path, can_generate_array=True)

        def field(doc: Any, variables: dict) -> Any:
            if type(doc) is dict:
                return doc.get(path, MISSING)
            return _get_value_by_dot(doc, path, can_generate_array=True)

        return field
    return lambda doc, variables: node


def _variable(reference: str) -> Compiled:
    """As `hooks._variable`: user variables first, then ROOT/CURRENT, REMOVE and NOW."""
    name, _, path = reference.partition(".")

    def variable(doc: Any, variables: dict) -> Any:
        if name in variables:
            value = variables[name]
        elif name in ("ROOT", "CURRENT"):
            value = doc
        elif name == "REMOVE":
            return MISSING
        elif name == "NOW":
            value = utc_now()
        else:
            fail(f"Use of undefined variable: {name}", code=17276)
        if not path:
            return value
        return _get_value_by_dot(value, path, can_generate_array=True)

    return variable


# -- operators compiled into closures over their operands ------------------------------------
# Each returns None when the argument is malformed: the interpreter then raises its error
# when a document is evaluated, exactly as before.


def _to_bool() -> Callable[[Any], bool]:
    return helpers.mongodb_to_bool  # the engine's truthiness (filters.install)


def _cond(compiler: _Compiler, argument: Any) -> Compiled | None:
    if isinstance(argument, list) and len(argument) == 3:
        condition, then, otherwise = argument
    elif isinstance(argument, dict) and all(k in argument for k in ("if", "then", "else")):
        condition, then, otherwise = argument["if"], argument["then"], argument["else"]
    else:
        return None
    test, yes, no = (compiler.compile(part) for part in (condition, then, otherwise))
    to_bool = _to_bool()

    def cond(doc: Any, variables: dict) -> Any:
        if to_bool(test(doc, variables)):
            return yes(doc, variables)
        return no(doc, variables)

    return cond


def _if_null(compiler: _Compiler, argument: Any) -> Compiled | None:
    if not isinstance(argument, list) or len(argument) < 2:
        return None
    if len(argument) > 2 and _OLD_SERVER:
        return None
    fields = [compiler.compile(item) for item in argument[:-1]]
    fallback = compiler.compile(argument[-1])

    def if_null(doc: Any, variables: dict) -> Any:
        for field in fields:
            value = field(doc, variables)
            if value is not None and value is not MISSING:
                return value
        return fallback(doc, variables)

    return if_null


def _switch(compiler: _Compiler, argument: Any) -> Compiled | None:
    if not isinstance(argument, dict):
        return None
    branches = argument.get("branches", [])
    if not isinstance(branches, list | tuple) or not branches:
        return None
    for branch in branches:
        if not isinstance(branch, dict) or "case" not in branch or "then" not in branch:
            return None
    cases = [(compiler.compile(b["case"]), compiler.compile(b["then"])) for b in branches]
    default = compiler.compile(argument["default"]) if "default" in argument else None
    to_bool = _to_bool()

    def switch(doc: Any, variables: dict) -> Any:
        for case, then in cases:
            if to_bool(case(doc, variables)):
                return then(doc, variables)
        if default is None:  # mongomock-ng's message, as the interpreter raises it
            raise OperationFailure(
                "$switch could not find a matching branch for an input, "
                "and no default was specified."
            )
        return default(doc, variables)

    return switch


def _logical(every: bool) -> Callable[[_Compiler, Any], Compiled | None]:
    def build(compiler: _Compiler, argument: Any) -> Compiled | None:
        if not isinstance(argument, list):
            return None
        terms = [compiler.compile(item) for item in argument]
        to_bool = _to_bool()
        if every:
            return lambda doc, variables: all(to_bool(t(doc, variables)) for t in terms)
        return lambda doc, variables: any(to_bool(t(doc, variables)) for t in terms)

    return build


def _let(compiler: _Compiler, argument: Any) -> Compiled | None:
    if not isinstance(argument, dict) or "vars" not in argument or "in" not in argument:
        return None
    names = argument["vars"]
    if not isinstance(names, dict) or not all(isinstance(name, str) for name in names):
        return None
    bindings = [(name, compiler.compile(value)) for name, value in names.items()]
    body = compiler.compile(argument["in"])

    def let(doc: Any, variables: dict) -> Any:
        bound = {name: value(doc, variables) for name, value in bindings}
        return body(doc, {**variables, **bound})

    return let


def _literal(compiler: _Compiler, argument: Any) -> Compiled:
    return lambda doc, variables: argument


def _comparison(name: str) -> Callable[[_Compiler, Any], Compiled | None]:
    test = _TESTS[name]
    handler = registry.OPERATORS[name]

    def build(compiler: _Compiler, argument: Any) -> Compiled | None:
        if not isinstance(argument, list) or len(argument) != 2:
            return compiler._handler(handler, argument)  # the handler reports the arity
        left, right = (compiler.compile(item) for item in argument)
        return lambda doc, variables: test(compare(left(doc, variables), right(doc, variables)))

    return build


_SPECIAL: dict[str, Callable[[_Compiler, Any], Compiled | None]] = {
    "$cond": _cond,
    "$ifNull": _if_null,
    "$switch": _switch,
    "$and": _logical(True),
    "$or": _logical(False),
    "$let": _let,
    "$literal": _literal,
    **{name: _comparison(name) for name in _TESTS},
}
