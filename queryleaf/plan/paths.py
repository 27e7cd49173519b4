"""Column references to document paths: `a.b.c` and `items[0].name` are paths into
documents; a leading qualifier that names a relation in scope is dropped."""

from __future__ import annotations

from sqlglot import exp

from queryleaf.errors import SemanticError, UnsupportedError
from queryleaf.plan.plans import Path


def reference_parts(node: exp.Expression) -> list[str | int] | None:
    """The parts of a column reference as written (`u.address.city` gives
    ["u", "address", "city"], `items[0].name` gives ["items", 0, "name"]), or None when
    the node is not a plain reference."""
    if type(node) is exp.Column:
        args = node.args
        this = args.get("this")
        if type(this) is exp.Identifier and not (args.get("catalog") or args.get("db")):
            table = args.get("table")
            if table is None:
                return [this.this]
            if type(table) is exp.Identifier:
                return [table.this, this.this]
    if isinstance(node, exp.Column):
        if isinstance(node.this, exp.Star):
            return None
        parts: list[str | int] = [p.name for p in node.parts]
        return parts
    if isinstance(node, exp.Dot):
        left = reference_parts(node.this)
        if left is None or not isinstance(node.expression, exp.Identifier):
            return None
        return [*left, node.expression.name]
    if isinstance(node, exp.Bracket):
        base = reference_parts(node.this)
        if base is None or len(node.expressions) != 1:
            return None
        index = node.expressions[0]
        if isinstance(index, exp.Literal) and not index.is_string and _is_index(index.this):
            return [*base, int(index.this)]
        if (
            isinstance(index, exp.Neg)
            and isinstance(index.this, exp.Literal)
            and not index.this.is_string
            and _is_index(index.this.this)
        ):
            return [*base, -int(index.this.this)]
        if isinstance(index, exp.Literal) and index.is_string:
            return [*base, index.this]
        raise UnsupportedError(
            "an array index must be an integer literal",
            node=node,
            hint="write items[0], not items[i] or items[1.5]; use an expression such as "
            "ELEMENT_AT(items, i) for computed positions",
            code="QL201",
        )
    return None


def _is_index(text: str) -> bool:
    """An array position MongoDB can take: a plain decimal integer within int32."""
    return text.isascii() and text.isdigit() and int(text) < 2**31


def label_of(path: Path) -> str:
    """A path as a column label: fields joined with dots, indexes in brackets."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + part
    return text


def dotted(path: Path) -> str:
    """A path in MongoDB's query-language form (`items.0.name`)."""
    return ".".join(str(p) for p in path)


def check_field_names(path: Path, node: exp.Expression) -> None:
    """No operator through an identifier: every dot-separated segment of every part (a
    backquoted `a.$[]` included) must be a plain field name, never `$...` (positional
    `$`, `$[]`, `$[id]`, operators), empty, or holding NUL."""
    for part in path:
        if not isinstance(part, str):
            continue
        for segment in part.split("."):
            if segment.startswith("$") or segment == "" or "\x00" in segment:
                raise SemanticError(
                    f"field name {part!r} cannot be used in a path",
                    node=node,
                    hint="MongoDB field names in paths must not be empty, contain NUL or "
                    "start with '$' (positional and operator names are not columns)",
                    code="QL307",
                )
