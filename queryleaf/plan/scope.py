"""Relations in scope and the resolution of column references to document paths."""

from __future__ import annotations

from collections.abc import Callable
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
    collection: str | None  # None: rows come from a database-level pipeline ($documents)
    prefix: Path = ()
    node: exp.Expression | None = None
    # Stages that produce the relation's rows from its collection (table functions, CTEs,
    # derived tables, views).
    stages: list[dict[str, Any]] = field(default_factory=list)
    # A CTE or derived table exposes exactly its select list: label -> field. None for
    # collections, which are schemaless. `open` keeps other names (a `*` in the select list).
    columns: dict[str, str] | None = None
    open: bool = False

    def field_path(self, parts: list[str | int], node: exp.Expression) -> Path:
        """The path of a column reference (without qualifier) in this relation's rows."""
        if self.columns is None:
            return tuple(parts)
        first = parts[0]
        if isinstance(first, str) and first in self.columns:
            return (self.columns[first], *parts[1:])
        if self.open:
            return tuple(parts)
        raise SemanticError(
            f"{self.alias} has no column {first}",
            node=node,
            hint=f"{self.alias} exposes only its select list: "
            + (", ".join(self.columns) or "no columns"),
            code="QL315",
        )

    def may_have(self, name: str | int) -> bool:
        return self.columns is None or self.open or name in self.columns


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
                path = relation.field_path(parts[1:], node)
                check_field_names(path, node)
                return relation, path
        candidates = self.relations
        if len(candidates) > 1:
            # Known select lists settle what schemaless collections cannot: a relation that
            # declares the column wins over collections that merely might hold it.
            candidates = [r for r in self.relations if r.may_have(parts[0])]
            declaring = [r for r in candidates if r.columns and parts[0] in r.columns]
            if len(declaring) == 1:
                candidates = declaring
        if len(candidates) != 1:
            names = ", ".join(r.alias for r in self.relations)
            first = parts[0]
            if not candidates:
                raise SemanticError(
                    f"no table of the query has a column {first}",
                    node=node,
                    hint=f"the query reads {names}",
                    code="QL315",
                )
            raise SemanticError(
                f"column {first} is ambiguous: the query reads {names}",
                node=node,
                hint="qualify it, e.g. "
                + " or ".join(f"{r.alias}.{first}" for r in candidates[:2]),
                code="QL301",
            )
        relation = candidates[0]
        path = relation.field_path(list(parts), node)
        check_field_names(path, node)
        return relation, path

    def full_path(self, node: exp.Expression) -> Path:
        relation, path = self.resolve(node)
        return relation.prefix + path

    def relations_of(
        self, node: exp.Expression, outer: Callable[[exp.Expression], bool] | None = None
    ) -> set[str]:
        """Aliases of the relations an expression reads; `outer` tells the references that
        belong to an enclosing query (a correlated subquery's), which read none of these."""
        found: set[str] = set()
        for ref in references(node):
            if outer is not None and outer(ref):
                continue
            relation, _ = self.resolve(ref)
            found.add(relation.alias)
        # A correlated subquery reads the outer relations it names by alias.
        for subquery in node.find_all(exp.Subquery, exp.Exists):
            for column in subquery.find_all(exp.Column):
                if column.table and self.find(column.table) is not None:
                    found.add(column.table)
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


def chain_terms(node: exp.Expression) -> list[exp.Expression]:
    """The terms of a chain of one connective (`a AND b AND c`, parentheses included), in
    order, found iteratively: a generated WHERE may chain thousands of terms."""
    kind = type(node)
    found: list[exp.Expression] = []
    stack = [node]
    while stack:
        current = stack.pop()
        inner = current.this if isinstance(current, exp.Paren) else current
        if type(inner) is kind:
            stack.extend([inner.expression, inner.this])
        else:
            found.append(current)
    return found


def split_conjuncts(node: exp.Expression | None) -> list[exp.Expression]:
    """The terms of an AND chain, in order (iterative: a chain may be thousands long)."""
    found: list[exp.Expression] = []
    stack = [] if node is None else [node]
    while stack:
        current = stack.pop()
        if isinstance(current, exp.Paren) and isinstance(current.this, exp.And):
            stack.append(current.this)
        elif isinstance(current, exp.And):
            stack.extend([current.expression, current.this])
        else:
            found.append(current)
    return found
