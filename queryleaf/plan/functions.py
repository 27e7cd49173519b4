"""Scalar SQL functions and operators to MQL. Each entry is pushed down as an aggregation
expression with SQL's NULL-in, NULL-out behaviour; an unknown function is an error that
names it. The builders live in the family modules imported below (they fill
queryleaf.plan.function_registry)."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from queryleaf.errors import SemanticError, UnsupportedError
from queryleaf.plan import (  # noqa: F401  (each registers its builders)
    functions_bitwise,
    functions_cast,
    functions_core,
    functions_date,
    functions_date_format,
    functions_date_parts,
    functions_json,
    functions_letters,
    functions_text,
)
from queryleaf.plan.function_registry import ANONYMOUS, KNOWN_NAMES, TYPED

if TYPE_CHECKING:
    from queryleaf.plan.expressions import ExprCompiler


def translate_function(compiler: ExprCompiler, node: exp.Expression) -> Any:
    if isinstance(node, exp.Anonymous):
        name = node.name.upper()
        builder = ANONYMOUS.get(name)
        if builder is None:
            raise unknown_function(node.name, node)
        return builder(compiler, node)
    builder = TYPED.get(type(node))
    if builder is None:
        name = type(node).__name__
        if isinstance(node, exp.Func):
            raise unknown_function(node.sql_name(), node)
        if isinstance(node, exp.Subquery | exp.Select):
            raise UnsupportedError(
                "subqueries are not supported yet",
                node=node,
                hint="rewrite with a JOIN",
                code="QL201",
            )
        raise UnsupportedError(
            f"{name} expressions are not supported: {node.sql('mysql')}",
            node=node,
            code="QL201",
        )
    return builder(compiler, node)


def unknown_function(name: str, node: exp.Expression) -> SemanticError:
    known = sorted(KNOWN_NAMES)
    close = difflib.get_close_matches(name.upper(), known, n=3)
    hint = f"did you mean {', '.join(close)}?" if close else "see the function table in docs/sql.md"
    return SemanticError(f"unknown function {name.upper()}", node=node, hint=hint, code="QL302")
