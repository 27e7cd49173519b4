"""Window functions (OVER) to `$setWindowFields`.

Windows with the same PARTITION BY and ORDER BY share one `$setWindowFields`; its `sortBy` takes
field paths, so ORDER BY expressions are computed into hidden fields first (one `$set`), and
several PARTITION BY expressions partition by one document of them.

SQL's RANGE frames bounded by CURRENT ROW include the current row's peers (rows with equal
ORDER BY values). MongoDB's `documents` windows know nothing of peers, and its `range` windows
accept only numeric or date sort keys, which the data may not have. So such a frame (the default
one under ORDER BY) is computed in two steps: the running value over `documents: [unbounded,
current]`, then, per group of peers, the value at the last peer (`$last` in a second
`$setWindowFields` partitioned by the PARTITION BY and ORDER BY values, sorted by the row's
`$documentNumber`). Frames with numeric offsets (`RANGE BETWEEN 5 PRECEDING AND CURRENT ROW`)
use `range` windows, over a key made ascending and non-NULL (NULL keys are peers of each other
only, as in MySQL). Each function's SQL value is assembled in a last `$set` where it needs more
than one MongoDB output (SUM is NULL over no numbers, where `$sum` gives 0)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from queryleaf.errors import SemanticError, UnsupportedError
from queryleaf.plan import mql
from queryleaf.plan.expressions import ExprCompiler, contains_window
from queryleaf.plan.literals import NotConstant, constant_value
from queryleaf.plan.scope import JOINED_PREFIX
from queryleaf.plan.value_kinds import summable
from queryleaf.plan.window_mql import (
    document_bound,
    field_path,
    non_negative_integer,
    not_missing,
    ntile,
    partition_by,
    peer_partition,
    positive_integer,
    range_bound,
    range_key,
    set_window_fields,
)
from queryleaf.plan.window_specs import Frame, OrderKey, Over, resolve_over

PREFIX = JOINED_PREFIX + "w"
RANKING = (exp.RowNumber, exp.Rank, exp.DenseRank, exp.PercentRank, exp.CumeDist, exp.Ntile)
NAVIGATION = (exp.Lag, exp.Lead)
VALUES = (exp.FirstValue, exp.LastValue, exp.NthValue)
AGGREGATES = (exp.Sum, exp.Avg, exp.Min, exp.Max, exp.Count)


@dataclass
class WindowPlan:
    """Stages that compute every window of a select list, and where each result lands."""

    stages: list[dict[str, Any]] = field(default_factory=list)
    fields: dict[int, str] = field(default_factory=dict)  # id(Window node) -> output field


def plan_windows(windows: list[exp.Window], compiler: ExprCompiler) -> WindowPlan:
    """`compiler` translates the PARTITION BY / ORDER BY / argument expressions in the
    scope the windows run in (before or after GROUP BY)."""
    return _Planner(compiler).plan(windows)


# -- calls and the stages they share --------------------------------------------------------------


@dataclass
class _Call:
    node: exp.Window
    function: exp.Expression
    over: Over
    field: str
    sort: str = "none"  # "none", "any" (some order, ORDER BY-less), "order", "range"
    group: _Group | None = None


@dataclass
class _Group:
    """One `$setWindowFields` (`main`), the per-peers stage after it (`peers`) and a stage
    re-sorted by row number (`after`); all partitioned by the same PARTITION BY."""

    partition: list[Any]
    order: list[OrderKey]
    range_frame: Frame | None = None
    native_rank: bool = False  # $rank/$denseRank: the single sort key must treat missing as null
    sort: dict[str, int] = field(default_factory=dict)
    keys: list[Any] = field(default_factory=list)  # ORDER BY values, missing read as null
    main: dict[str, Any] = field(default_factory=dict)
    peers: dict[str, Any] = field(default_factory=dict)
    peers_sorted: bool = False
    after: dict[str, Any] = field(default_factory=dict)
    row_number: str | None = None
    count: str | None = None
    peer_rank: str | None = None


class _Planner:
    def __init__(self, compiler: ExprCompiler) -> None:
        self.compiler = compiler
        self.counter = 0
        self.prepared: dict[str, Any] = {}  # hidden field -> expression, computed first
        self.prepared_names: dict[str, str] = {}
        self.groups: dict[str, _Group] = {}
        self.final: dict[str, Any] = {}

    def name(self, kind: str = "") -> str:
        self.counter += 1
        return f"{PREFIX}{kind}{self.counter - 1}"

    # -- top level ------------------------------------------------------------------------

    def plan(self, windows: list[exp.Window]) -> WindowPlan:
        plan = WindowPlan()
        calls: list[_Call] = []
        by_text: dict[str, str] = {}
        for window in windows:
            text = window.sql("mysql")
            if text in by_text:
                plan.fields[id(window)] = by_text[text]
                continue
            call = self.resolve(window)
            by_text[text] = call.field
            plan.fields[id(window)] = call.field
            calls.append(call)
        self.assign_groups(calls)
        for call in calls:
            self.translate(call)
        plan.stages = self.stages()
        return plan

    def resolve(self, window: exp.Window) -> _Call:
        function = window.this
        if isinstance(function, exp.IgnoreNulls | exp.RespectNulls):
            raise UnsupportedError(
                "IGNORE NULLS / RESPECT NULLS is not supported", node=function, code="QL201"
            )
        if not isinstance(function, RANKING + NAVIGATION + VALUES + AGGREGATES):
            name = function.sql_name() if isinstance(function, exp.Func) else function.sql()
            raise UnsupportedError(
                f"{name} is not supported as a window function",
                node=window,
                hint="window functions: ROW_NUMBER, RANK, DENSE_RANK, PERCENT_RANK, CUME_DIST, "
                "NTILE, LAG, LEAD, FIRST_VALUE, LAST_VALUE, NTH_VALUE, SUM, AVG, MIN, MAX, COUNT",
                code="QL201",
            )
        for argument in function.iter_expressions():
            if contains_window(argument):
                raise SemanticError(
                    "window functions cannot be nested",
                    node=argument,
                    hint="compute the inner window in a derived table or CTE",
                    code="QL305",
                )
        over = resolve_over(window, self.compiler)
        call = _Call(window, function, over, self.name())
        call.sort = _sort_need(call)
        return call

    # -- grouping ---------------------------------------------------------------------------

    def assign_groups(self, calls: list[_Call]) -> None:
        for call in calls:
            if call.sort == "order":
                call.group = self.group(call.over.partition, call.over.order)
            elif call.sort == "range":
                assert call.over.frame is not None
                call.group = self.group(call.over.partition, call.over.order, call.over.frame)
        for call in calls:
            if call.sort in ("any", "none"):
                call.group = self.shared_group(call)
        for call in calls:
            if _uses_native_rank(call):
                assert call.group is not None
                call.group.native_rank = True
        for group in self.groups.values():
            self.fix_sort(group)

    def group(
        self, partition: list[Any], order: list[OrderKey], range_frame: Frame | None = None
    ) -> _Group:
        key = repr(partition) + "|" + repr([(k.value, k.desc) for k in order])
        if range_frame is not None:
            key += f"|range:{range_frame.interval}"
        if key not in self.groups:
            self.groups[key] = _Group(partition, order, range_frame)
        return self.groups[key]

    def shared_group(self, call: _Call) -> _Group:
        """A window without ORDER BY joins a stage with the same PARTITION BY: any order (or
        none) is right for it."""
        partition = repr(call.over.partition)
        for group in self.groups.values():
            if repr(group.partition) == partition and (group.order or call.sort == "none"):
                return group
        return self.group(call.over.partition, [])

    def fix_sort(self, group: _Group) -> None:
        """sortBy and the normalised ORDER BY values of a group."""
        if group.range_frame is not None:
            (key,) = group.order
            group.sort = {self.prepare(range_key(key, group.range_frame)): 1}
            group.keys = [self.read(group.sort)]
            return
        for key in group.order:
            path = field_path(key.value)
            if path is None or group.native_rank:
                path = self.prepare(not_missing(key.value))
                group.keys.append("$" + path)
            else:
                group.keys.append(not_missing(key.value))
            group.sort.setdefault(path, -1 if key.desc else 1)

    def read(self, sort: dict[str, int]) -> str:
        return "$" + next(iter(sort))

    def prepare(self, expression: Any) -> str:
        identity = repr(expression)
        if identity not in self.prepared_names:
            name = self.name("k")
            self.prepared_names[identity] = name
            self.prepared[name] = expression
        return self.prepared_names[identity]

    def needs_sort(self, group: _Group) -> None:
        if not group.sort:
            group.sort = {"_id": 1}  # ROW_NUMBER() OVER () & co.: any order will do

    def row_number(self, group: _Group) -> str:
        self.needs_sort(group)
        if group.row_number is None:
            group.row_number = self.name("n")
            group.main[group.row_number] = {"$documentNumber": {}}
        return "$" + group.row_number

    def partition_count(self, group: _Group) -> str:
        if group.count is None:
            group.count = self.name("c")
            group.main[group.count] = {"$count": {}}
        return "$" + group.count

    def rank_over_peers(self, group: _Group) -> str:
        """RANK with several ORDER BY keys: the row number of the first peer."""
        if group.peer_rank is None:
            row_number = self.row_number(group)
            group.peer_rank = self.name("r")
            group.peers[group.peer_rank] = {"$min": row_number}
        return "$" + group.peer_rank

    # -- translation ------------------------------------------------------------------------

    def translate(self, call: _Call) -> None:
        function = call.function
        group = call.group
        assert group is not None
        if isinstance(function, RANKING):
            self.ranking(call, group)
        elif isinstance(function, NAVIGATION):
            self.navigation(call, group)
        elif isinstance(function, VALUES):
            self.value_function(call)
        else:
            self.aggregate(call)

    def ranking(self, call: _Call, group: _Group) -> None:
        function = call.function
        ordered = bool(call.over.order)
        if isinstance(function, exp.RowNumber):
            self.needs_sort(group)
            group.main[call.field] = {"$documentNumber": {}}
        elif isinstance(function, exp.Ntile):
            buckets = positive_integer(function.this, "NTILE", self.compiler)
            rn, n = self.row_number(group), self.partition_count(group)
            self.final[call.field] = ntile(rn, n, buckets)
        elif not ordered:  # every row is a peer of every other
            self.final[call.field] = 0 if isinstance(function, exp.PercentRank) else 1
        elif isinstance(function, exp.CumeDist):
            rn, n = self.row_number(group), self.partition_count(group)
            last_peer = self.name()
            group.peers[last_peer] = {"$max": rn}
            self.final[call.field] = {"$divide": ["$" + last_peer, n]}
        else:
            if len(call.over.order) == 1:
                operator = "$denseRank" if isinstance(function, exp.DenseRank) else "$rank"
                rank_field = (
                    call.field if not isinstance(function, exp.PercentRank) else self.name()
                )
                group.main[rank_field] = {operator: {}}
                rank = "$" + rank_field
            elif isinstance(function, exp.DenseRank):
                rank, rn = self.rank_over_peers(group), self.row_number(group)
                first_of_peers = {"$cond": [{"$eq": [rank, rn]}, 1, 0]}
                window = {"documents": ["unbounded", "current"]}
                group.after[call.field] = {"$sum": first_of_peers, "window": window}
                return
            else:
                rank = self.rank_over_peers(group)
                if isinstance(function, exp.Rank):
                    self.final[call.field] = rank
            if isinstance(function, exp.PercentRank):
                n = self.partition_count(group)
                self.final[call.field] = mql.cond(
                    {"$lte": [n, 1]},
                    0,
                    {"$divide": [{"$subtract": [rank, 1]}, {"$subtract": [n, 1]}]},
                )

    def navigation(self, call: _Call, group: _Group) -> None:
        function = call.function
        name = "LAG" if isinstance(function, exp.Lag) else "LEAD"
        offset = function.args.get("offset")
        by = non_negative_integer(offset, name, self.compiler) if offset is not None else 1
        by = -by if isinstance(function, exp.Lag) else by
        value = self.compiler.value(function.this)
        default_node = function.args.get("default")
        self.needs_sort(group)
        default: Any = None
        if default_node is not None:
            try:
                default = constant_value(default_node, self.compiler.bindings)
            except NotConstant:
                # $shift's default must be a constant: shift a document holding the value, and
                # take the default where there is no row to shift from.
                raw = self.name()
                shifted = {"$shift": {"output": {"v": value}, "by": by}}
                group.main[raw] = shifted
                fallback = self.compiler.value(default_node)
                self.final[call.field] = mql.cond(
                    {"$eq": [{"$type": "$" + raw}, "object"]}, f"${raw}.v", fallback
                )
                return
        spec: dict[str, Any] = {"by": by}
        if default is None:
            spec = {"output": value, **spec}
        else:
            # $shift also gives the default where the value is missing: SQL wants NULL there.
            output = value if mql.is_constant(value) else {"$ifNull": [value, None]}
            spec = {"output": output, **spec, "default": mql.literal(default)}
        group.main[call.field] = {"$shift": spec}

    def value_function(self, call: _Call) -> None:
        function = call.function
        value = self.compiler.value(function.this)
        frame = call.over.frame
        if isinstance(function, exp.NthValue):
            if function.args.get("from_first") is False:
                raise UnsupportedError(
                    "NTH_VALUE ... FROM LAST is not supported", node=call.node, code="QL201"
                )
            n = positive_integer(function.args.get("offset"), "NTH_VALUE", self.compiler)
            pushed = {"$push": value if mql.is_constant(value) else {"$ifNull": [value, None]}}
            self.framed(call, [pushed], lambda refs: {"$arrayElemAt": [refs[0], n - 1]})
            return
        first = isinstance(function, exp.FirstValue)
        operator = "$first" if first else "$last"
        # FIRST_VALUE over a frame that starts at the partition's start needs no peers (and
        # LAST_VALUE over one that ends at its end).
        edge = frame is not None and (frame.start if first else frame.end) is None
        self.framed(call, [{operator: value}], None, peer_sensitive=not edge)

    def aggregate(self, call: _Call) -> None:
        function = call.function
        argument = function.this
        if isinstance(argument, exp.Distinct):
            raise UnsupportedError(
                f"{function.sql_name()}(DISTINCT ...) is not supported as a window function",
                node=call.node,
                hint="MySQL does not support it either; aggregate the distinct values in a "
                "GROUP BY query",
                code="QL201",
            )
        if isinstance(function, exp.Count) and (argument is None or isinstance(argument, exp.Star)):
            self.framed(call, [{"$count": {}}], None)
            return
        value = self.compiler.value(argument)
        if isinstance(function, exp.Sum | exp.Avg):
            value = summable(argument, value)
        if isinstance(function, exp.Count):
            self.framed(call, [{"$sum": {"$cond": [mql.not_null(value), 1, 0]}}], None)
        elif isinstance(function, exp.Sum):
            # SUM over no numbers is NULL in SQL; $sum gives 0. Whether the frame holds a
            # number: $avg ignores non-numbers and is null over none (or an empty frame).
            numbers = {"$avg": value}
            self.framed(
                call,
                [{"$sum": value}, numbers],
                lambda refs: {"$cond": [mql.not_null(refs[1]), refs[0], None]},
            )
        else:
            operator = {exp.Avg: "$avg", exp.Min: "$min", exp.Max: "$max"}[type(function)]
            self.framed(call, [{operator: value}], None)

    def framed(
        self,
        call: _Call,
        operators: list[dict[str, Any]],
        finish: Callable[[list[str]], Any] | None,
        peer_sensitive: bool = True,
    ) -> None:
        """Window operators over the call's frame, and `finish` of their outputs (None: the
        single output is the value)."""
        group = call.group
        assert group is not None
        frame = call.over.frame
        pick = None
        stage = group.main
        window: dict[str, Any] | None = None
        if frame is None:
            pass
        elif frame.rows or (frame.peers_only_bounds and not peer_sensitive):
            self.needs_sort(group)
            window = {"documents": [document_bound(frame.start), document_bound(frame.end)]}
        elif not frame.peers_only_bounds:
            window = {"range": [range_bound(frame.start), range_bound(frame.end)]}
        elif frame.start is None:  # RANGE UNBOUNDED PRECEDING .. CURRENT ROW
            window, pick = {"documents": ["unbounded", "current"]}, "$last"
        elif frame.end is None:  # RANGE CURRENT ROW .. UNBOUNDED FOLLOWING
            window, pick = {"documents": ["current", "unbounded"]}, "$first"
        else:  # RANGE CURRENT ROW .. CURRENT ROW: the peers
            stage = group.peers
        with_window = [{**op, "window": window} if window else op for op in operators]
        if pick is None and finish is None:
            stage[call.field] = with_window[0]
            return
        names = [self.name() for _ in operators]
        for name, operator in zip(names, with_window, strict=True):
            stage[name] = operator
        refs = ["$" + name for name in names]
        value = finish(refs) if finish is not None else refs[0]
        if pick is None:
            self.final[call.field] = value
            return
        # The value at the last (first) peer of the current row.
        self.row_number(group)
        group.peers_sorted = True
        group.peers[call.field] = {pick: value}

    # -- stages -----------------------------------------------------------------------------

    def stages(self) -> list[dict[str, Any]]:
        stages: list[dict[str, Any]] = []
        if self.prepared:
            stages.append({"$set": dict(self.prepared)})
        for group in self.groups.values():
            partition = partition_by(group.partition)
            if group.main:
                stages.append(set_window_fields(partition, group.sort, group.main))
            if group.peers:
                peers = peer_partition(group.partition, group.keys)
                sort = {group.row_number: 1} if group.peers_sorted and group.row_number else {}
                stages.append(set_window_fields(peers, sort, group.peers))
            if group.after:
                assert group.row_number is not None
                stages.append(set_window_fields(partition, {group.row_number: 1}, group.after))
        if self.final:
            stages.append({"$set": dict(self.final)})
        return stages


# -- helpers --------------------------------------------------------------------------------------


def _sort_need(call: _Call) -> str:
    function = call.function
    over = call.over
    if isinstance(function, RANKING) and not isinstance(function, exp.RowNumber | exp.Ntile):
        return "order" if over.order else "none"
    if isinstance(function, exp.RowNumber | exp.Ntile | exp.Lag | exp.Lead):
        return "order" if over.order else "any"
    frame = over.frame
    if frame is None:
        # The whole partition: FIRST_VALUE & co. still read it in ORDER BY order.
        return "order" if over.order and isinstance(function, VALUES) else "none"
    if not frame.rows and not frame.peers_only_bounds:
        return "range"
    return "order" if over.order else "any"


def _uses_native_rank(call: _Call) -> bool:
    ranked = isinstance(call.function, exp.Rank | exp.DenseRank | exp.PercentRank)
    return ranked and len(call.over.order) == 1
