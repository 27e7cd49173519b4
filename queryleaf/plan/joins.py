"""JOIN to `$lookup` + `$unwind`. SQL semantics: INNER drops unmatched rows, LEFT keeps
them with NULLs, NULL never equals NULL in ON, and WHERE on the joined side filters after
the join (for INNER joins such conjuncts are pushed into the lookup, which is equivalent)."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from queryleaf.errors import SemanticError, UnsupportedError
from queryleaf.plan import mql
from queryleaf.plan.expressions import ExprCompiler
from queryleaf.plan.filters import FilterCompiler, merge_and
from queryleaf.plan.literals import Bindings
from queryleaf.plan.paths import dotted, reference_parts
from queryleaf.plan.pushdown import filter_before_group
from queryleaf.plan.scope import Relation, Scope, references, split_conjuncts


def join_kind(join: exp.Join) -> str:
    """INNER, LEFT or CROSS."""
    side = (join.side or "").upper()
    kind = (join.kind or "").upper()
    if side in {"RIGHT", "FULL"} or kind in {"NATURAL"}:
        raise UnsupportedError(
            f"{side or kind} JOIN is not supported",
            node=join,
            hint="swap the tables and use LEFT JOIN",
            code="QL204",
        )
    if side == "LEFT":
        return "LEFT"
    if kind == "CROSS" or (join.args.get("on") is None and not join.args.get("using")):
        return "CROSS"
    return "INNER"


def on_conjuncts(join: exp.Join, scope: Scope, joined: Relation) -> list[exp.Expression]:
    using = join.args.get("using")
    if using:
        left = scope.relations[0].alias
        return [
            exp.EQ(
                this=exp.column(ident.name, table=left),
                expression=exp.column(ident.name, table=joined.alias),
            )
            for ident in using
        ]
    return split_conjuncts(join.args.get("on"))


def lookup_stages(
    joined: Relation,
    kind: str,
    conditions: list[exp.Expression],
    scope: Scope,
    bindings: Bindings | None,
) -> list[dict[str, Any]]:
    """The stages joining `joined` (whose documents land under its prefix) to the relations
    before it in `scope`, keeping the rows for which all `conditions` are TRUE."""
    let: dict[str, Any] = {}

    def outer_variable(node: exp.Expression) -> Any:
        relation, path = scope.resolve(node)
        if relation is joined:
            return mql.path_expr(path)
        full = relation.prefix + path
        for name, value in let.items():
            if value == mql.path_expr(full):
                return f"$${name}"
        name = f"v{len(let)}"
        let[name] = mql.path_expr(full)
        return f"$${name}"

    def own_path(node: exp.Expression) -> str | None:
        relation, path = scope.resolve(node)
        if relation is not joined:
            return None
        return dotted(path)

    exprs = ExprCompiler(outer_variable, bindings)
    filters = FilterCompiler(own_path, exprs, bindings)

    local_field = foreign_field = None
    remaining = []
    for condition in conditions:
        # A table function's columns exist only after its stages: no localField shortcut.
        eligible = local_field is None and not joined.stages
        pair = _equi_pair(condition, scope, joined) if eligible else None
        if pair is not None:
            local_field, foreign_field = pair
        else:
            remaining.append(condition)

    parts = []
    if foreign_field is not None:
        parts.append({foreign_field: {"$ne": None}})  # NULL never joins NULL in SQL
    parts.extend(filters.conjunct(c) for c in remaining)
    match = merge_and(parts)

    # Without a collection the joined rows come from a $documents pipeline (MongoDB 6.0+).
    lookup: dict[str, Any] = {} if joined.collection is None else {"from": joined.collection}
    if local_field is not None:
        lookup["localField"] = local_field
        lookup["foreignField"] = foreign_field
    if let:
        lookup["let"] = let
    # A grouped relation's join condition on its keys runs before its $group.
    lookup["pipeline"] = filter_before_group(
        [*joined.stages, *([{"$match": match}] if match else [])]
    )
    target = dotted(joined.prefix)
    lookup["as"] = target
    unwind = {"path": f"${target}", "preserveNullAndEmptyArrays": kind == "LEFT"}
    return [{"$lookup": lookup}, {"$unwind": unwind}]


def _equi_pair(condition: exp.Expression, scope: Scope, joined: Relation) -> tuple[str, str] | None:
    """(localField, foreignField) for `outer.path = joined.path` between plain paths."""
    if not isinstance(condition, exp.EQ):
        return None
    sides = [condition.this, condition.expression]
    if any(reference_parts(s) is None for s in sides):
        return None
    resolved = [scope.resolve(s) for s in sides]
    if any(isinstance(p, int) for _, path in resolved for p in path):
        return None
    (first, first_path), (second, second_path) = resolved
    if first is joined and second is not joined:
        return dotted(second.prefix + second_path), dotted(first_path)
    if second is joined and first is not joined:
        return dotted(first.prefix + first_path), dotted(second_path)
    return None


def check_alias(relation: Relation, node: exp.Expression) -> None:
    if relation.alias.startswith("$") or "." in relation.alias:
        raise SemanticError(
            f"table alias {relation.alias!r} cannot be used",
            node=node,
            hint="aliases must not contain '.' or start with '$'",
            code="QL304",
        )


def referenced_relations(node: exp.Expression, scope: Scope) -> set[str]:
    return {scope.resolve(ref)[0].alias for ref in references(node)}
