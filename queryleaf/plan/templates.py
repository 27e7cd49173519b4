"""Plans as templates: one plan for every execution of a parameterized statement.

`derive(plan_with, params, now)` plans the statement twice with markers (plan/markers.py) of
the parameters' shape and NOW() stand-ins, and compares the two plans. Where they differ,
each difference must be a marker itself (a parameter lands there as it is), the ObjectId a
hex-string marker converts to, or a marker date moved by the same amount in both (a
parameter or NOW() plus or minus a fixed interval). Anything else, or a marker the planner
looked at (a taint), and the statement's plan depends on the values: no template.

The template is then checked against the plan of the real values (`expected`): filled with
them it must be exactly that plan, or there is no template. A Template fills only the
containers on the way to its slots; everything else is shared with the cached plan, which
is inert data and never mutated.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from bson import ObjectId

from queryleaf.plan.markers import (
    MarkerDatetime,
    MarkerHexStr,
    Probe,
    is_marker,
    markers_for,
    now_marker,
    plain,
)


class NotTemplate(Exception):
    """The plan depends on a value, not only on its shape."""


@dataclasses.dataclass(frozen=True)
class Slot:
    """Where a value lands: parameter `key` (None for NOW()), converted by `how`
    ("raw", "oid": ObjectId of a hex string, "day": the date's midnight) and moved by
    `delta` for dates."""

    key: Any
    how: str = "raw"
    delta: dt.timedelta | None = None

    def value(self, values: Any, now: dt.datetime | None) -> Any:
        value = now if self.key is None else values[self.key]
        if self.how == "oid":
            value = ObjectId(value)
        elif self.how == "day":
            value = value.replace(hour=0, minute=0, second=0, microsecond=0)
        if self.delta is not None:
            value = value + self.delta
        return value


@dataclasses.dataclass(frozen=True)
class _Node:
    """A container with slots below it: `rebuild(children)` makes a new one."""

    base: Any
    children: tuple[tuple[Any, Any], ...]  # (key or index or field, Slot | _Node)


class Template:
    def __init__(self, root: Any, uses_now: bool) -> None:
        self.root = root
        self.uses_now = uses_now
        self.fill: Callable[[Any, Any], Any] = _filler(root)


def _filler(node: Any) -> Callable[[Any, Any], Any]:
    """A function (values, now) -> the filled node, copying only containers above slots."""
    if isinstance(node, Slot):
        if node.how == "raw" and node.delta is None:
            key = node.key
            if key is None:
                return lambda values, now: now
            return lambda values, now: values[key]
        return node.value
    if not isinstance(node, _Node):
        return lambda values, now: node
    base = node.base
    parts = [(key, _filler(child)) for key, child in node.children]
    if isinstance(base, dict):

        def fill_dict(values: Any, now: Any) -> Any:
            out = base.copy()
            for key, part in parts:
                out[key] = part(values, now)
            return out

        return fill_dict
    if isinstance(base, list | tuple):
        kind = type(base)

        def fill_sequence(values: Any, now: Any) -> Any:
            items = list(base)
            for index, part in parts:
                items[index] = part(values, now)
            return items if kind is list else kind(items)

        return fill_sequence
    cls, fields = type(base), base.__dict__

    def fill_object(values: Any, now: Any) -> Any:
        copy = object.__new__(cls)
        state = copy.__dict__
        state.update(fields)
        for name, part in parts:
            state[name] = part(values, now)
        return copy

    return fill_object


def derive(
    plan_with: Callable[[Any, Any], Any], params: Any, expected: Any, now: dt.datetime
) -> Template:
    """A template for plans of `params`' shape, or NotTemplate."""
    probe = Probe()
    rounds = []
    for round_ in (0, 1):
        values = markers_for(params, round_, probe)
        moment = now_marker(round_, probe)
        try:
            plan = plan_with(values, moment)
        except Exception as error:  # a stand-in the planner refused: values matter
            raise NotTemplate(str(error)) from None
        rounds.append((plan, by_key(values), moment))
    if probe.tainted:
        raise NotTemplate("the plan depends on a parameter's value")
    (first, values_a, now_a), (second, values_b, now_b) = rounds
    uses: set[Any] = set()
    root = _compare(first, second, values_a, values_b, now_a, now_b, uses)
    if not isinstance(root, _Node | Slot):
        return Template(expected, False)  # nothing lands in the plan: it is the plan
    template = Template(root, None in uses)
    real = flat_values(params)
    if not _same(template.fill(real, now), expected):
        raise NotTemplate("the template does not give the plan of the values")
    return template


def flat_values(params: Any) -> Any:
    """What a template fills from: the parameters themselves, or by_key(params) when a
    parameter is a list."""
    if params is None:
        return ()
    items = (
        params
        if type(params) is list
        else params.values()
        if isinstance(params, Mapping)
        else params
    )
    for value in items:
        if type(value) is list or type(value) is tuple:
            return by_key(params)
    return params


def by_key(params: Any) -> dict[Any, Any]:
    """Parameters by key; list parameters (IN ?) also by (key, index)."""
    if params is None:
        return {}
    items = params.items() if isinstance(params, Mapping) else enumerate(params)
    flat: dict[Any, Any] = {}
    for key, value in items:
        flat[key] = value
        if isinstance(value, list | tuple):
            for index, item in enumerate(value):
                flat[(key, index)] = item
    return flat


def _compare(a: Any, b: Any, va: dict, vb: dict, na: Any, nb: Any, uses: set[Any]) -> Any:
    """The template of two plans made from different markers."""
    if is_marker(a) or is_marker(b):
        return _difference(a, b, va, vb, na, nb, uses)
    if type(a) is not type(b):
        raise NotTemplate("the plans differ")
    if isinstance(a, dict):
        if list(a) != list(b):
            raise NotTemplate("the plans differ")
        pairs: Any = ((key, a[key], b[key]) for key in a)
    elif isinstance(a, list | tuple):
        if len(a) != len(b):
            raise NotTemplate("the plans differ")
        pairs = ((i, x, y) for i, (x, y) in enumerate(zip(a, b, strict=True)))
    elif dataclasses.is_dataclass(a) and hasattr(a, "__dict__"):
        pairs = ((name, x, vars(b)[name]) for name, x in vars(a).items())
    elif a == b:
        return a
    else:
        return _difference(a, b, va, vb, na, nb, uses)
    children = []
    for key, x, y in pairs:
        child = _compare(x, y, va, vb, na, nb, uses)
        if child is not x:
            children.append((key, child))
    return _Node(a, tuple(children)) if children else a


def _difference(a: Any, b: Any, va: dict, vb: dict, na: Any, nb: Any, uses: set[Any]) -> Any:
    """Two different leaves: the slot that explains them, or NotTemplate."""
    for key, marker in va.items():
        other = vb[key]
        if a is marker and b is other:
            uses.add(key)
            return Slot(key)
        if not is_marker(marker) or is_marker(a) or is_marker(b):
            continue
        if isinstance(marker, MarkerHexStr) and isinstance(a, ObjectId):
            if a == ObjectId(plain(marker)) and b == ObjectId(plain(other)):
                uses.add(key)
                return Slot(key, "oid")
        elif type(a) is type(plain(marker)) and a == plain(marker) and b == plain(other):
            uses.add(key)
            return Slot(key)
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        slot = _moved_date(plain(a), plain(b), va, vb, na, nb)
        if slot is not None:
            uses.add(slot.key)
            return slot
    raise NotTemplate("the plans differ")


def _moved_date(a: dt.datetime, b: dt.datetime, va: dict, vb: dict, na: Any, nb: Any) -> Any:
    candidates: list[tuple[Any, str, Any, Any]] = [
        (None, "raw", plain(na), plain(nb)),
        (None, "day", _day(plain(na)), _day(plain(nb))),
    ]
    for key, marker in va.items():
        if isinstance(marker, MarkerDatetime):
            candidates.append((key, "raw", plain(marker), plain(vb[key])))
    for key, how, start_a, start_b in candidates:
        if _aware(a) != _aware(start_a):
            continue
        delta = a - start_a
        if delta == b - start_b:
            return Slot(key, how, delta or None)
    return None


def _day(value: dt.datetime) -> dt.datetime:
    return value.replace(hour=0, minute=0, second=0, microsecond=0)


def _aware(value: dt.datetime) -> bool:
    return value.tzinfo is not None


def _same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (1, 1.0 and True are not the same)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return vars(a).keys() == vars(b).keys() and all(
            _same(x, vars(b)[name]) for name, x in vars(a).items()
        )
    if isinstance(a, float) and a != a:
        return b != b  # NaN is the same NaN
    return bool(a == b)
