"""The scalar function registry: sqlglot node classes (TYPED) and, for the functions sqlglot
leaves anonymous, upper-case names (ANONYMOUS) to builders that turn a call into MQL. The
family modules (functions_core, functions_date*, functions_text, functions_json) fill it when
imported; queryleaf.plan.functions imports them all and looks calls up."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from queryleaf.plan import mql

if TYPE_CHECKING:
    from queryleaf.plan.expressions import ExprCompiler

Builder = Callable[["ExprCompiler", exp.Expression], Any]

TYPED: dict[type, Builder] = {}
ANONYMOUS: dict[str, Builder] = {}
# Every name a user may call, for "did you mean" hints and the shell's completion.
KNOWN_NAMES: set[str] = set()


def args(compiler: ExprCompiler, node: exp.Expression) -> list[Any]:
    return [compiler.value(arg) for arg in arg_nodes(node)]


def arg_nodes(node: exp.Expression) -> list[exp.Expression]:
    nodes: list[exp.Expression] = []
    if node.this is not None and isinstance(node.this, exp.Expression):
        nodes.append(node.this)
    if isinstance(node.args.get("expression"), exp.Expression):
        nodes.append(node.args["expression"])
    nodes.extend(node.expressions)
    return nodes


def as_string(x: Any) -> Any:
    if mql.is_constant(x) and isinstance(mql.constant_of(x), str):
        return x
    return {"$toString": x}
