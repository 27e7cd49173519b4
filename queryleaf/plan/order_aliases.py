"""Select-list aliases inside ORDER BY expressions: `SELECT g AS x ... ORDER BY x * -1` sorts
by `g * -1`. A bare alias (`ORDER BY x`) names its select-list entry already (select.py).

Inside an expression MySQL reads a name as the table's column when there is one, and as the
alias otherwise. A collection has no fixed columns to look in, so a name counts as a column
when the select list reads it as one (`SELECT g * -1 AS g ... ORDER BY g + 0` sorts by the
field g, as MySQL does), and as the alias otherwise; a field is always reached by qualifying
it (`ORDER BY u.x * -1`). The alias of a window function or a subquery is refused inside an
expression (copying it would compute it a second time): order by the alias alone."""

from __future__ import annotations

from sqlglot import exp

from queryleaf.errors import UnsupportedError
from queryleaf.plan.select_items import Item


def with_aliases_expanded(order: list[exp.Ordered], items: list[Item]) -> list[exp.Ordered]:
    named = {item.label: item.node for item in items if item.aliased and item.node is not None}
    if not named:
        return order
    read = {c.name for item in items if item.node is not None for c in _columns(item.node)}
    aliases = {label: node for label, node in named.items() if label not in read}
    return [_expanded(ordered, aliases) for ordered in order] if aliases else order


def _columns(node: exp.Expression) -> list[exp.Column]:
    return [node] if isinstance(node, exp.Column) else list(node.find_all(exp.Column))


def _expanded(ordered: exp.Ordered, aliases: dict[str, exp.Expression]) -> exp.Ordered:
    key = ordered.this
    if isinstance(key, exp.Column):
        return ordered
    found = [c for c in key.find_all(exp.Column) if not c.table and c.name in aliases]
    if not found:
        return ordered
    for column in found:
        if aliases[column.name].find(exp.Window, exp.Select) is not None:
            raise UnsupportedError(
                f"ORDER BY reads {column.name}, the alias of a window function or subquery, "
                "inside an expression",
                node=column,
                hint=f"order by {column.name} alone, or repeat its expression in ORDER BY",
                code="QL201",
            )

    def replace(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name in aliases:
            return aliases[node.name].copy()
        return node

    expanded = ordered.copy()
    expanded.set("this", key.copy().transform(replace))
    return expanded
