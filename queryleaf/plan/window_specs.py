"""The OVER clause of a window function, resolved: named windows (`OVER w`, `OVER (w ORDER BY
...)`) merged in, PARTITION BY and ORDER BY compiled, and the frame normalised to SQL's
meaning (the default frame made explicit, offsets signed, INTERVAL offsets in milliseconds)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from queryleaf.errors import SemanticError, UnsupportedError
from queryleaf.plan import mql
from queryleaf.plan.expressions import ExprCompiler
from queryleaf.plan.literals import NotConstant, constant_value
from queryleaf.plan.null_order import nulls_first_wanted

# A frame bound: None is UNBOUNDED (PRECEDING at the start, FOLLOWING at the end); a number is
# a signed offset from the current row (n PRECEDING is -n, CURRENT ROW is 0).
Bound = float | int | None

# Fixed-length units of `RANGE INTERVAL n <unit> PRECEDING`, in milliseconds.
INTERVAL_MS = {
    "MICROSECOND": 0.001,
    "SECOND": 1000,
    "MINUTE": 60_000,
    "HOUR": 3_600_000,
    "DAY": 86_400_000,
    "WEEK": 7 * 86_400_000,
}


@dataclass(frozen=True)
class Frame:
    """ROWS or RANGE frame; `None` for a whole partition is represented by no Frame at all."""

    rows: bool
    start: Bound
    end: Bound
    interval: bool = False  # RANGE INTERVAL ...: offsets are milliseconds over a date key

    @property
    def peers_only_bounds(self) -> bool:
        """A RANGE frame bounded only by UNBOUNDED and CURRENT ROW (peers matter)."""
        return not self.rows and self.start in (None, 0) and self.end in (None, 0)


@dataclass
class OrderKey:
    value: Any  # compiled MQL expression
    desc: bool
    node: exp.Expression


@dataclass
class Over:
    partition: list[Any]  # compiled MQL expressions
    order: list[OrderKey]
    frame: Frame | None  # None: the whole partition
    explicit_frame: bool


def resolve_over(window: exp.Window, compiler: ExprCompiler) -> Over:
    partition_nodes, order_nodes, spec = _merged(window)
    partition = [compiler.value(node) for node in partition_nodes]
    order = []
    for ordered in order_nodes:
        desc = bool(ordered.args.get("desc"))
        value = compiler.value(ordered.this)
        nulls_first = nulls_first_wanted(ordered)
        if nulls_first is not None:
            # NULLs placed other than sortBy puts them: a flag key (1 for NULL) sorts first.
            flag = {"$cond": [mql.is_null(value), 1, 0]}
            order.append(OrderKey(flag, nulls_first, ordered.this))
        order.append(OrderKey(value, desc, ordered.this))
    frame = _frame(spec, order, compiler) if spec is not None else None
    if spec is None and order:
        frame = Frame(rows=False, start=None, end=0)  # RANGE UNBOUNDED PRECEDING..CURRENT ROW
    return Over(partition, order, frame, spec is not None)


# -- named windows ------------------------------------------------------------------------------


def _merged(
    window: exp.Window,
) -> tuple[list[exp.Expression], list[exp.Ordered], exp.WindowSpec | None]:
    """PARTITION BY, ORDER BY and frame of a window, following `WINDOW w AS (...)`
    definitions the way MySQL does: a window may add ORDER BY and a frame to the one it
    names (and inherits them), never replace them."""
    partition = list(window.args.get("partition_by") or [])
    order_node = window.args.get("order")
    order = list(order_node.expressions) if order_node is not None else []
    spec = window.args.get("spec")
    name = window.args.get("alias")
    seen: set[str] = set()
    while name is not None:
        key = name.name.lower()
        if key in seen:
            raise SemanticError(
                f"window {name.name} is defined in terms of itself", node=window, code="QL304"
            )
        seen.add(key)
        base = _named_window(window, name.name)
        base_partition = list(base.args.get("partition_by") or [])
        base_order_node = base.args.get("order")
        base_order = list(base_order_node.expressions) if base_order_node is not None else []
        if partition and base_partition:
            raise SemanticError(
                f"a window based on {name.name} cannot have its own PARTITION BY",
                node=window,
                code="QL304",
            )
        if order and base_order:
            raise SemanticError(
                f"window {name.name} already has an ORDER BY", node=window, code="QL304"
            )
        base_spec = base.args.get("spec")
        if spec is not None and base_spec is not None:
            raise SemanticError(
                f"window {name.name} already has a frame", node=window, code="QL304"
            )
        partition = partition or base_partition
        order = order or base_order
        spec = spec or base_spec
        name = base.args.get("alias")
    return partition, order, spec


def _named_window(window: exp.Window, name: str) -> exp.Window:
    select = window.find_ancestor(exp.Select)
    for definition in (select.args.get("windows") or []) if select is not None else []:
        if isinstance(definition.this, exp.Identifier) and definition.this.name.lower() == (
            name.lower()
        ):
            return definition
    raise SemanticError(
        f"window {name} is not defined",
        node=window,
        hint=f"add WINDOW {name} AS (...) after HAVING",
        code="QL304",
    )


# -- frames -------------------------------------------------------------------------------------


def _frame(spec: exp.WindowSpec, order: list[OrderKey], compiler: ExprCompiler) -> Frame | None:
    if spec.args.get("exclude") is not None:
        raise UnsupportedError(
            "EXCLUDE in a window frame is not supported", node=spec, code="QL201"
        )
    kind = str(spec.args.get("kind") or "").upper()
    if kind not in ("ROWS", "RANGE"):
        raise UnsupportedError(
            f"{kind} window frames are not supported",
            node=spec,
            hint="use ROWS or RANGE",
            code="QL201",
        )
    rows = kind == "ROWS"
    start_node, start_side = spec.args.get("start"), spec.args.get("start_side")
    end_node, end_side = spec.args.get("end"), spec.args.get("end_side")
    if end_node is None:
        end_node, end_side = "CURRENT ROW", None
    kinds: set[str] = set()
    start = _bound(start_node, start_side, rows, spec, compiler, kinds)
    end = _bound(end_node, end_side, rows, spec, compiler, kinds)
    if kinds == {"interval", "number"}:
        raise SemanticError(
            "a RANGE frame cannot mix INTERVAL and numeric offsets", node=spec, code="QL304"
        )
    if _is_unbounded(start_node) and str(start_side).upper() == "FOLLOWING":
        raise SemanticError("a frame cannot start at UNBOUNDED FOLLOWING", node=spec, code="QL304")
    if _is_unbounded(end_node) and str(end_side).upper() == "PRECEDING":
        raise SemanticError("a frame cannot end at UNBOUNDED PRECEDING", node=spec, code="QL304")
    if start is not None and end is not None and start > end:
        raise SemanticError(
            "the frame starts after it ends",
            node=spec,
            hint="write the earlier bound first: BETWEEN 2 PRECEDING AND 1 FOLLOWING",
            code="QL304",
        )
    has_offset = not (start in (None, 0) and end in (None, 0))
    if not rows and has_offset and len(order) != 1:
        raise SemanticError(
            "a RANGE frame with an offset needs exactly one ORDER BY expression",
            node=spec,
            hint="order the window by one numeric or date expression, or use ROWS",
            code="QL304",
        )
    if start is None and end is None:
        return None  # the whole partition
    if not rows and not order:
        return None  # without ORDER BY every row is a peer of every other
    return Frame(rows=rows, start=start, end=end, interval="interval" in kinds)


def _is_unbounded(node: Any) -> bool:
    return isinstance(node, str) and node.upper() == "UNBOUNDED"


def _bound(
    node: Any,
    side: Any,
    rows: bool,
    spec: exp.WindowSpec,
    compiler: ExprCompiler,
    kinds: set[str],
) -> Bound:
    if isinstance(node, str):
        text = node.upper()
        if text == "UNBOUNDED":
            return None
        if text == "CURRENT ROW":
            return 0
        raise UnsupportedError(f"frame bound {node} is not supported", node=spec, code="QL201")
    sign = -1 if str(side).upper() == "PRECEDING" else 1
    if isinstance(node, exp.Interval):
        if rows:
            raise SemanticError("an INTERVAL offset needs a RANGE frame", node=node, code="QL304")
        unit = node.unit.name.upper() if node.unit is not None else ""
        if unit not in INTERVAL_MS:
            raise UnsupportedError(
                f"RANGE frames with INTERVAL ... {unit or '?'} are not supported",
                node=node,
                hint="use SECOND, MINUTE, HOUR, DAY or WEEK: months and years have no fixed length",
                code="QL201",
            )
        amount = _offset(node.this, spec, compiler, integral=False)
        kinds.add("interval")
        return sign * amount * INTERVAL_MS[unit]
    kinds.add("number")
    return sign * _offset(node, spec, compiler, integral=rows)


def _offset(node: exp.Expression, spec: exp.WindowSpec, compiler: ExprCompiler, integral: bool):
    try:
        value = constant_value(node, compiler.bindings)
    except NotConstant:
        value = None
    if isinstance(value, str):
        try:
            value = float(value) if "." in value else int(value)
        except ValueError:
            value = None
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
    if ok and integral and value != int(value):
        ok = False
    if not ok:
        what = "a non-negative integer" if integral else "a non-negative number"
        raise SemanticError(
            f"a frame offset must be {what}, not {node.sql('mysql')}",
            node=node,
            hint="write a constant or bind a parameter: ROWS BETWEEN 2 PRECEDING AND CURRENT ROW",
            code="QL304",
        )
    return int(value) if integral else value
