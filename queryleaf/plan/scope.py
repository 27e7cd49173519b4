"""Relations in scope and the resolution of column references to document paths."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from queryleaf.errors import SemanticError, UnsupportedError
from queryleaf.plan.paths import check_field_names, reference_parts
from queryleaf.plan.plans import Path

JOINED_PREFIX = "__"


@dataclass
class Relation:
    """A collection in FROM/JOIN. `prefix` is where its fields sit in the working document:
    the root for the first relation, an embedded document for each joined one."""

    alias: str
    collection: str
    prefix: Path = ()
    node: exp.Expression | None = None
    # Stages that produce the relation's rows from its collection (table functions).
    stages: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Scope:
    relations: list[Relation] = field(default_factory=list)

    def find(self, alias: str) -> Relation | None:
        for relation in self.relations:
            if relation.alias == alias:
                return relation
        return None

    def resolve(self, node: exp.Expression) -> tuple[Relation, Path]:
        """The relation a reference belongs to and the path inside that relation's
        documents. A leading part naming a relation is a qualifier; otherwise the whole
        reference is a path (`address.city`)."""
        parts = reference_parts(node)
        if parts is None:
            raise UnsupportedError(
                f"not a column reference: {node.sql('mysql')}", node=node, code="QL201"
            )
        if not self.relations:
            raise SemanticError(
                f"column {node.sql('mysql')} has no table to come from",
                node=node,
                hint="add a FROM clause",
                code="QL303",
            )
        if len(parts) >= 2 and isinstance(parts[0], str):
            relation = self.find(parts[0])
            if relation is not None:
                path = tuple(parts[1:])
                check_field_names(path, node)
                return relation, path
        if len(self.relations) > 1:
            names = ", ".join(r.alias for r in self.relations)
            first = parts[0]
            raise SemanticError(
                f"column {first} is ambiguous: the query reads {names}",
                node=node,
                hint="qualify it, e.g. "
                + " or ".join(f"{r.alias}.{first}" for r in self.relations[:2]),
                code="QL301",
            )
        path = tuple(parts)
        check_field_names(path, node)
        return self.relations[0], path

    def full_path(self, node: exp.Expression) -> Path:
        relation, path = self.resolve(node)
        return relation.prefix + path

    def relations_of(self, node: exp.Expression) -> set[str]:
        """Aliases of the relations an expression reads."""
        found: set[str] = set()
        for ref in references(node):
            relation, _ = self.resolve(ref)
            found.add(relation.alias)
        return found


def references(node: exp.Expression) -> list[exp.Expression]:
    """The outermost column references in an expression (a Dot/Bracket chain counts once)."""
    found: list[exp.Expression] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if reference_parts(current) is not None:
            found.append(current)
            continue
        if isinstance(current, exp.Subquery | exp.Select):
            continue
        stack.extend(current.iter_expressions())
    return found


def split_conjuncts(node: exp.Expression | None) -> list[exp.Expression]:
    if node is None:
        return []
    if isinstance(node, exp.Paren) and isinstance(node.this, exp.And):
        return split_conjuncts(node.this)
    if isinstance(node, exp.And):
        return split_conjuncts(node.this) + split_conjuncts(node.expression)
    return [node]
