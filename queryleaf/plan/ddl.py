"""DDL and catalog statements: CREATE/DROP TABLE, VIEW and INDEX, SHOW TABLES, SHOW INDEXES,
DESCRIBE."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from queryleaf.errors import UnsupportedError
from queryleaf.plan.literals import Bindings

DDL_NODES = (exp.Create, exp.Drop, exp.Show, exp.Describe, exp.Command)


def plan_ddl(tree: exp.Expression, bindings: Bindings | None) -> Any:
    kind = tree.args.get("kind") or type(tree).__name__
    raise UnsupportedError(
        f"{str(kind).upper()} statements are not supported yet", node=tree, code="QL207"
    )
