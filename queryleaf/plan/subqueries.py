"""Subqueries in the select list, WHERE and HAVING, as `$lookup` stages whose pipeline is
the subquery; a correlated reference becomes a `let` variable. Each lookup lands in a hidden
field read by the expression that holds the subquery:

- scalar: the row's column (no row: NULL; several rows: QL502 as MySQL's 1242, see
  plan/scalar_rows.py);
- IN: one row of flags (any row, a row equal to the operand, a NULL row) that give SQL's
  three-valued answer, NOT IN included;
- EXISTS: whether a first row exists."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlglot import exp

from queryleaf.errors import SemanticError
from queryleaf.plan import mql
from queryleaf.plan.context import Outer, QueryContext
from queryleaf.plan.plans import OutputColumn
from queryleaf.plan.scalar_rows import one_row_or_error
from queryleaf.plan.scope import JOINED_PREFIX, Scope

if TYPE_CHECKING:
    from queryleaf.plan.expressions import ExprCompiler


class SubqueryPlanner:
    def __init__(self, ctx: QueryContext, scope: Scope) -> None:
        self.ctx = ctx
        self.scope = scope
        self.pending: list[dict[str, Any]] = []

    def flush(self) -> list[dict[str, Any]]:
        """The lookups registered since the last flush, to run before the stage that reads
        them."""
        stages, self.pending = self.pending, []
        return stages

    def hook(
        self,
        select: exp.Expression,
        mode: str,
        compiler: ExprCompiler,
        operand: exp.Expression | None = None,
    ) -> Any:
        from queryleaf.plan.queries import query_pipeline

        number = self.ctx.counter.next()
        field = f"{JOINED_PREFIX}q{number}"
        let: dict[str, Any] = {}

        def reference(node: exp.Expression) -> str:
            value = compiler.value(node)
            for name, existing in let.items():
                if existing == value:
                    return f"$${name}"
            name = f"q{number}v{len(let)}"
            let[name] = value
            return f"$${name}"

        outer = Outer(self._aliases(), reference)
        query = query_pipeline(select, self.ctx.nested(outer=outer))
        columns = [c for c in query.columns if isinstance(c, OutputColumn)]
        if mode != "exists" and (len(columns) != 1 or len(query.columns) != 1):
            raise SemanticError(
                "a subquery used as a value must select exactly one column",
                node=select,
                hint="select one column in the subquery",
                code="QL316",
            )
        stages = list(query.stages)
        result: Any
        if mode == "scalar":
            stages.append({"$limit": 2})  # two rows tell one from several
            row = {"$first": f"${field}"}
            value = {"$let": {"vars": {"row": row}, "in": f"$$row.{columns[0].path[0]}"}}
            result = one_row_or_error(field, value)
        elif mode == "exists":
            stages += [{"$limit": 1}, {"$project": {"_id": 1}}]
            size = {"$size": f"${field}"}
            result = ({"$gt": [size, 0]}, {"$eq": [size, 0]})
        else:
            assert operand is not None
            value = f"${columns[0].path[0]}"
            wanted = reference_value(operand, compiler, let, number)
            stages.append(
                {
                    "$group": {
                        "_id": None,
                        "hit": {"$max": {"$and": [mql.not_null(wanted), {"$eq": [value, wanted]}]}},
                        "nulls": {"$max": mql.is_null(value)},
                    }
                }
            )
            flags = {"$first": f"${field}"}
            hit = {"$eq": [{"$let": {"vars": {"f": flags}, "in": "$$f.hit"}}, True]}
            nulls = {"$eq": [{"$let": {"vars": {"f": flags}, "in": "$$f.nulls"}}, True]}
            empty = {"$eq": [{"$size": f"${field}"}, 0]}
            operand_value = compiler.value(operand)
            falsity = mql.or_(
                empty, mql.and_(mql.not_null(operand_value), mql.not_(hit), mql.not_(nulls))
            )
            result = (hit, falsity)
        lookup: dict[str, Any] = {} if query.collection is None else {"from": query.collection}
        if let:
            lookup["let"] = let
        lookup["pipeline"] = stages
        lookup["as"] = field
        self.pending.append({"$lookup": lookup})
        return result

    def _aliases(self) -> set[str]:
        """Aliases a subquery may use for correlated references: this query's relations and,
        through this query, those of the queries around it."""
        aliases = {r.alias for r in self.scope.relations}
        if self.ctx.outer is not None:
            aliases |= self.ctx.outer.aliases
        return aliases


def reference_value(
    node: exp.Expression, compiler: ExprCompiler, let: dict[str, Any], number: int
) -> str:
    """The IN operand as a variable of the lookup."""
    value = compiler.value(node)
    name = f"q{number}in"
    let[name] = value
    return f"$${name}"
