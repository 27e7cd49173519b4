"""ORDER BY, OFFSET and LIMIT of a SELECT: which select-list entry an ORDER BY key names (a
position, an alias, or an entry with the same translation), and the sort, skip and limit
stages. A mixin of SelectCompiler (plan/select.py), which holds the select and its items."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from queryleaf.errors import SemanticError, UnsupportedError
from queryleaf.plan.expressions import ExprCompiler
from queryleaf.plan.literals import Bindings
from queryleaf.plan.null_order import sort_stages
from queryleaf.plan.order_aliases import with_aliases_expanded
from queryleaf.plan.select_items import Item, count_of, position_of


class OrderAndLimit:
    select: exp.Select
    items: list[Item]
    bindings: Bindings | None

    def _order(self) -> list[exp.Ordered]:
        order = self.select.args.get("order")
        return with_aliases_expanded(order.expressions, self.items) if order is not None else []

    def _order_item(self, node: exp.Expression) -> Item | None:
        """The select-list entry an ORDER BY key names: a position or an alias."""
        position = position_of(node, self.bindings)
        if position is not None:
            return self._item_at(position, node)
        if isinstance(node, exp.Column) and not node.table:
            for item in self.items:
                if item.aliased and item.label == node.name:
                    return item
        return None

    def _matching_item(self, node: exp.Expression, compiler: ExprCompiler) -> Item | None:
        """A select-list entry with the same translation as an ORDER BY expression."""
        try:
            wanted = compiler.value(node)
        except (SemanticError, UnsupportedError):
            return None
        for item in self.items:
            if item.node is not None and compiler.value(item.node) == wanted:
                return item
        return None

    def _item_at(self, position: int, node: exp.Expression) -> Item:
        if not 1 <= position <= len(self.items) or self.items[position - 1].node is None:
            raise SemanticError(
                f"position {position} is not a column of the select list",
                node=node,
                hint=f"use 1 to {len(self.items)}",
                code="QL303",
            )
        return self.items[position - 1]

    def _skip_limit(self) -> tuple[int, int | None]:
        limit = self.select.args.get("limit")
        offset = self.select.args.get("offset")
        count = count_of(limit.expression, self.bindings, "LIMIT") if limit is not None else None
        skip = count_of(offset.expression, self.bindings, "OFFSET") if offset is not None else 0
        return skip, count

    def _sort_skip_limit(
        self, sort: dict[str, int], nulls: dict[str, bool] | None = None
    ) -> list[dict[str, Any]]:
        skip, limit = self._skip_limit()
        stages, flags = sort_stages(sort, nulls or {})
        if skip:
            stages.append({"$skip": skip})
        if limit is not None:
            stages.append({"$limit": limit} if limit > 0 else {"$match": {"$expr": False}})
        if flags:
            stages.append({"$unset": flags})
        return stages
