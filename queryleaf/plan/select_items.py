"""The select list: items, labels, output field names, positions and counts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from queryleaf.errors import SemanticError
from queryleaf.plan.literals import Bindings, NotConstant, constant_value
from queryleaf.plan.paths import label_of, reference_parts
from queryleaf.plan.plans import StarColumns
from queryleaf.plan.scope import JOINED_PREFIX, Scope


@dataclass
class Item:
    """One entry of the select list."""

    label: str
    node: exp.Expression | None  # None for a star
    star: StarColumns | None = None
    field: str = ""  # output field in the pipeline
    aliased: bool = False


def select_items(select: exp.Select, scope: Scope) -> list[Item]:
    items: list[Item] = []
    for node in select.expressions:
        if isinstance(node, exp.Star):
            items.append(Item("*", None, StarColumns()))
            for relation in scope.relations[1:]:
                items.append(
                    Item("*", None, StarColumns(relation.prefix, qualifier=relation.alias))
                )
            continue
        if isinstance(node, exp.Column) and isinstance(node.this, exp.Star):
            relation = scope.find(node.table)
            if relation is None:
                raise SemanticError(
                    f"{node.table}.* names no table of the query",
                    node=node,
                    hint="use an alias from FROM or JOIN",
                    code="QL304",
                )
            items.append(Item("*", None, StarColumns(relation.prefix, qualifier=relation.alias)))
            continue
        if isinstance(node, exp.Alias):
            items.append(Item(node.alias, node.this, aliased=True))
            continue
        items.append(Item(item_label(node, scope), node))
    return items


def item_label(node: exp.Expression, scope: Scope) -> str:
    parts = reference_parts(node)
    if parts is not None:
        # The path as written, without a leading qualifier that names a relation.
        if len(parts) >= 2 and isinstance(parts[0], str) and scope.find(parts[0]):
            parts = parts[1:]
        return label_of(tuple(parts))
    if isinstance(node, exp.Count) and isinstance(node.this, exp.Star):
        return "count"
    return node.sql("mysql")


def assign_fields(items: list[Item]) -> None:
    """Output field names: the label when MongoDB accepts it as a field name, a cleaned-up
    form otherwise; unique either way."""
    used: set[str] = set()
    for item in items:
        if item.node is None:
            continue
        base = item.label
        if not base or base.startswith("$") or "." in base or base.startswith(JOINED_PREFIX):
            base = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in base).strip("_")
            base = base or "column"
            if base.startswith(JOINED_PREFIX):
                base = base.lstrip("_") or "column"
        name = base
        suffix = 2
        while name in used:
            name = f"{base}_{suffix}"
            suffix += 1
        used.add(name)
        item.field = name


def plain_path(node: exp.Expression) -> bool:
    parts = reference_parts(node)
    return parts is not None and not any(isinstance(p, int) for p in parts)


def position_of(node: exp.Expression, bindings: Bindings | None) -> int | None:
    if isinstance(node, exp.Literal) and not node.is_string:
        value = constant_value(node, bindings)
        return value if isinstance(value, int) else None
    return None


def count_of(node: exp.Expression, bindings: Bindings | None, clause: str) -> int:
    try:
        value = constant_value(node, bindings)
    except NotConstant:
        value = None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise SemanticError(
            f"{clause} takes a non-negative integer",
            node=node,
            hint=f"write {clause} 10, or bind an integer parameter",
            code="QL304",
        )
    return value
