"""Installs the embedded engine's corrections into mongomock-ng (once per process).

mongomock-ng evaluates every expression through `_Parser.parse` and every stage through the
`_PIPELINE_HANDLERS` table, looked up at call time; we wrap the first and extend the second so
the operators and stages in `registry` take precedence. Everything else stays mongomock-ng's.
"""

from __future__ import annotations

from typing import Any

import mongomock_ng
from mongomock_ng import aggregate, helpers
from mongomock_ng.aggregate import _Parser

from . import compiled, filters, no_javascript, registry
from .constant_folding import fold_pipeline
from .values import MISSING, fail, utc_now

_MARK = "_queryleaf_embedded_installed"


def install() -> None:
    """Patch mongomock-ng; idempotent."""
    if getattr(mongomock_ng, _MARK, False):
        return
    # Importing the modules registers their operators and stages.
    from . import (  # noqa: F401
        client,
        commands,
        group,
        normal_form,
        operators_arith,
        operators_array,
        operators_bitwise,
        operators_compare,
        operators_convert,
        operators_date,
        operators_extra,
        operators_string,
        stage_windows,
        stages,
    )

    _patch_parser()
    _patch_pipeline()
    no_javascript.install()  # first: the filter patches below call through it
    filters.install()
    client.patch_entry_points()
    from . import collection_locks, fast_paths, projection_arrays

    projection_arrays.install()

    fast_paths.install()  # it wraps the patched entry points
    collection_locks.install()  # last: one lock around every entry point
    setattr(mongomock_ng, _MARK, True)


def _patch_parser() -> None:
    original = _Parser.parse

    def parse(self: _Parser, expression: Any) -> Any:
        if isinstance(expression, dict):
            if len(expression) == 1:
                name = next(iter(expression))
                handler = registry.OPERATORS.get(name)
                if handler is not None:
                    return handler(registry.Scope(self), expression[name])
        elif isinstance(expression, str):
            if expression.startswith("$$"):
                return _variable(self, expression[2:])
        elif isinstance(expression, list):
            # An array literal holds null where an element evaluates to missing.
            return [None if item is MISSING else item for item in map(self.parse, expression)]
        return original(self, expression)

    _Parser.parse = parse


def _variable(parser: _Parser, reference: str) -> Any:
    """$$NAME or $$NAME.path: system variables, then user ($let, $lookup let, $map...)."""
    name, _, path = reference.partition(".")
    variables = parser._user_vars
    if name in variables:
        value = variables[name]
    elif name in ("ROOT", "CURRENT"):
        value = parser._doc_dict
    elif name == "REMOVE":
        return MISSING
    elif name == "NOW":
        value = utc_now()  # outside a pipeline (a find filter): evaluate now
    else:
        fail(f"Use of undefined variable: {name}", code=17276)
    if not path:
        return value
    return helpers.get_value_by_dot(value, path, can_generate_array=True)


def _patch_pipeline() -> None:
    original = aggregate.process_pipeline

    def process_pipeline(
        collection: Any, database: Any, pipeline: list, session: Any, user_vars: Any = None
    ) -> Any:
        if not isinstance(pipeline, list):
            fail("'pipeline' option must be specified as an array")
        variables = dict(user_vars or {})
        # $$NOW is fixed for a whole command, sub-pipelines included.
        variables.setdefault("NOW", utc_now())
        # Datetime literals become naive UTC, like the stored documents they meet.
        pipeline = helpers.patch_datetime_awareness_in_document(pipeline)
        # What does not read the document is computed once (constant_folding.py).
        pipeline = fold_pipeline(pipeline, variables)
        # An expression evaluated for many documents is compiled once (compiled.py).
        with compiled.pipeline_cache():
            return original(collection, database, pipeline, session, user_vars=variables)

    aggregate.process_pipeline = process_pipeline
    aggregate._parse_expression = compiled.evaluate
    aggregate._PIPELINE_HANDLERS.update(registry.STAGES)
