"""Stand-in values for planning a statement once for every execution (see plan/templates.py).

A parameter's *shape* is what the planner may look at without making the plan depend on the
value: its type, NULL-ness, a boolean's value, a number's sign (and small integers exactly),
whether a string is empty, looks like an ObjectId or starts with `$`. Values of one shape
get one plan, with the value filled in where it lands.

To find where it lands, the statement is planned with *markers*: values of the same shape
and type (subclasses of int, float, str and datetime) that record any other use on their
probe. A marker compared, added, sliced, formatted or converted taints the probe: the plan
then depends on the value itself and is not reused across values. Values whose shape cannot
be stated (documents, regexes, bytes, strings that look like dates or numbers) are part of
the cache key as they are: such plans are reused only for the same value.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from bson import ObjectId

OBJECT_ID_TEXT = re.compile(r"^[0-9a-fA-F]{24}$")
# Strings the planner may read as something else (dates, numbers, intervals): kept exact,
# except plain unsigned integers (zip codes, numeric ids), which have markers of their own.
_SPECIAL_TEXT = re.compile(r"^\s*[-+.\d]|^\s*$|^\$")
_DIGITS = re.compile(r"^[1-9]\d{0,17}$")


class Probe:
    """Collects whether any marker was inspected while planning."""

    __slots__ = ("tainted",)

    def __init__(self) -> None:
        self.tainted = False


class Unshaped(Exception):
    """The parameters cannot be keyed by shape (unhashable and not describable)."""


# -- shapes ------------------------------------------------------------------------------------


def shape_of(value: Any) -> tuple[Any, ...]:
    """The part of a value the plan may depend on; markers are made to the same shape."""
    if value is None:
        return ("null",)
    kind = type(value)
    if kind is bool:
        return ("bool", value)
    if kind is int:
        if -2 <= value <= 2:
            return ("int=", value)
        return ("int", value > 0, -(2**31) <= value < 2**31)
    if kind is float:
        if not math.isfinite(value) or value in (-1.0, 0.0, 1.0):
            return ("float=", repr(value))
        return ("float", value > 0, value.is_integer())
    if kind is str:
        if OBJECT_ID_TEXT.match(value):
            return ("oidtext",)
        if _DIGITS.match(value):
            return ("digits",)
        if _SPECIAL_TEXT.match(value):
            return ("str=", value)
        return ("str",)
    if kind is dt.datetime:
        return ("datetime", value.tzinfo is not None, value.microsecond % 1000 == 0)
    if kind is ObjectId:
        return ("oid",)
    if kind in (list, tuple):
        return (kind.__name__, tuple(shape_of(item) for item in value))
    try:
        return ("exact", kind.__qualname__, repr(value), hash(value))
    except TypeError:
        if isinstance(value, Mapping):
            return ("exact", kind.__qualname__, repr(value))
        raise Unshaped from None


def params_shape(params: Any) -> tuple[Any, ...]:
    """A hashable key for a statement's parameters (raises Unshaped)."""
    if params is None:
        return ()
    kind = type(params)
    if kind is list or kind is tuple:
        return ("positional", tuple(map(shape_of, params)))
    if isinstance(params, Mapping):
        return ("named", tuple((str(k), shape_of(v)) for k, v in sorted(params.items())))
    if isinstance(params, str | bytes) or not isinstance(params, Sequence):
        raise Unshaped
    return ("positional", tuple(shape_of(v) for v in params))


# -- markers -----------------------------------------------------------------------------------

_ALLOWED = {
    "__new__", "__init__", "__init_subclass__", "__class__", "__getattribute__",
    "__setattr__", "__delattr__", "__reduce__", "__reduce_ex__", "__sizeof__",
    "__subclasshook__", "__dir__", "__getnewargs__", "__getstate__", "__bool__", "__repr__",
    "__class_getitem__", "__getnewargs_ex__", "tzinfo", "__deepcopy__", "__copy__",
}  # fmt: skip


def _tainting(base: type, name: str) -> Any:
    original = getattr(base, name)

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        self._probe.tainted = True
        return original(self, *args, **kwargs)

    method.__name__ = name
    return method


def _marker_class(base: type) -> type:
    namespace: dict[str, Any] = {}
    for name in dir(base):
        if name in _ALLOWED or not callable(getattr(base, name)):
            continue
        namespace[name] = _tainting(base, name)
    return type(f"Marker{base.__name__.capitalize()}", (base,), namespace)


MarkerObjectId = _marker_class(ObjectId)
_COMPARISONS = ("__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__")


def _with_known_comparisons(cls: type, base: type, limit: int) -> None:
    """Comparing a number with a constant its shape decides (0, or -2..2 for integers
    outside that range) does not taint."""

    def make(name: str) -> Any:
        original = getattr(base, name)

        def compare(self: Any, other: Any) -> Any:
            if type(other) in (int, float) and -limit <= other <= limit:
                return original(self, other)
            self._probe.tainted = True
            return original(self, other)

        return compare

    for name in _COMPARISONS:
        setattr(cls, name, make(name))
    cls.__hash__ = _tainting(base, "__hash__")  # type: ignore[method-assign]


MarkerInt = _marker_class(int)
_with_known_comparisons(MarkerInt, int, 2)
MarkerFloat = _marker_class(float)
_with_known_comparisons(MarkerFloat, float, 0)
_MarkerStrBase = _marker_class(str)


class MarkerStr(_MarkerStrBase):  # type: ignore[misc, valid-type]
    def startswith(self, prefix: Any, *args: Any) -> bool:
        if prefix == "$" and not args:
            return False  # the shape says so: strings starting with '$' are kept exact
        self._probe.tainted = True
        return str.startswith(self, prefix, *args)


class MarkerHexStr(MarkerStr):
    """An ObjectId-looking string: its length is its shape's."""

    def __len__(self) -> int:
        return 24


_MarkerDatetimeBase = _marker_class(dt.datetime)


class MarkerDatetime(_MarkerDatetimeBase):  # type: ignore[misc, valid-type]
    """Moving a marker date by a fixed amount is allowed: the template records the amount."""

    def __add__(self, other: Any) -> Any:
        if isinstance(other, dt.timedelta):
            return _datetime_marker(dt.datetime.__add__(self, other), self._probe)
        self._probe.tainted = True
        return dt.datetime.__add__(self, other)

    __radd__ = __add__

    def __sub__(self, other: Any) -> Any:
        if isinstance(other, dt.timedelta):
            return _datetime_marker(dt.datetime.__sub__(self, other), self._probe)
        self._probe.tainted = True
        return dt.datetime.__sub__(self, other)


for _name in ("year", "month", "day", "hour", "minute", "second", "microsecond", "fold"):
    setattr(
        MarkerDatetime,
        _name,
        property(
            lambda self, _n=_name: (
                setattr(self._probe, "tainted", True) or getattr(dt.datetime, _n).__get__(self)
            )
        ),
    )


def midnight(value: dt.datetime) -> dt.datetime:
    """The start of the date's day (a marker stays a marker: the template records it)."""
    if isinstance(value, MarkerDatetime):
        fields = [_FIELD[name].__get__(value) for name in _FIELDS]
        day = dt.datetime(*fields[:3], tzinfo=fields[7])
        marker = _datetime_marker(day, value._probe)
        return marker
    return value.replace(hour=0, minute=0, second=0, microsecond=0)


def _datetime_marker(value: dt.datetime, probe: Probe) -> Any:
    marker = MarkerDatetime(*(_FIELD[name].__get__(value) for name in _FIELDS))
    marker._probe = probe
    return marker


_FIELDS = ("year", "month", "day", "hour", "minute", "second", "microsecond", "tzinfo")
_FIELD = {
    name: next(vars(k)[name] for k in dt.datetime.__mro__ if name in vars(k)) for name in _FIELDS
}


def plain(value: Any) -> Any:
    """A marker as the plain value it stands for."""
    if isinstance(value, MarkerDatetime):
        return dt.datetime(*(_FIELD[name].__get__(value) for name in _FIELDS))
    if isinstance(value, MarkerStr):
        return str.__str__(value)
    if isinstance(value, MarkerInt):
        return int.__int__(value)
    if isinstance(value, MarkerFloat):
        return float.__float__(value)
    if isinstance(value, MarkerObjectId):
        return ObjectId(value.binary)
    return value


def is_marker(value: Any) -> bool:
    return isinstance(value, MarkerInt | MarkerFloat | MarkerStr | MarkerDatetime | MarkerObjectId)


# Two distinct stand-ins for each shape, far from any value a statement would spell out.
_DATES = (
    dt.datetime(2001, 3, 10, 7, 13, 17, 123000),
    dt.datetime(2003, 5, 21, 15, 41, 53, 457000),
)


def marker_for(value: Any, serial: int, round_: int, probe: Probe) -> Any:
    """A stand-in of the same shape as `value` (or `value` itself when it is kept exact)."""
    shape = shape_of(value)
    kind = shape[0]
    made: Any
    if kind == "int":
        positive, small = shape[1], shape[2]
        magnitude = (1_000_003 if small else 10_000_000_019) + 7919 * serial + 104_729 * round_
        made = MarkerInt(magnitude if positive else -magnitude)
    elif kind == "float":
        positive, integral = shape[1], shape[2]
        magnitude = 1_000_003.0 + 7919 * serial + 104_729 * round_ + (0.0 if integral else 0.375)
        made = MarkerFloat(magnitude if positive else -magnitude)
    elif kind == "str":
        made = MarkerStr(f"q{serial}r{round_}%_*\\.[x]")
    elif kind == "digits":
        made = MarkerStr(f"{7_000_019 + 7919 * serial + 104_729 * round_}")
    elif kind == "oidtext":
        made = MarkerHexStr(f"{0xFEEDFACE0000 + serial:012x}{0xC0DE0000 + round_:012x}")
    elif kind == "oid":
        made = MarkerObjectId(f"{0xFEEDFACE0000 + serial:012x}{0xBEEF0000 + round_:012x}")
    elif kind == "datetime":
        base = _DATES[round_] + dt.timedelta(days=serial)
        if shape[1]:
            base = base.replace(tzinfo=value.tzinfo)
        if not shape[2]:
            base = base + dt.timedelta(microseconds=321)
        return _datetime_marker(base, probe)
    elif kind in ("list", "tuple"):
        items = [marker_for(item, serial * 64 + i, round_, probe) for i, item in enumerate(value)]
        return items if kind == "list" else tuple(items)
    else:
        return value
    made._probe = probe
    return made


def markers_for(params: Any, round_: int, probe: Probe) -> Any:
    """Parameters of the same shape as `params`, made of markers."""
    if params is None:
        return None
    if isinstance(params, Mapping):
        return {
            key: marker_for(value, serial, round_, probe)
            for serial, (key, value) in enumerate(params.items())
        }
    return [marker_for(value, serial, round_, probe) for serial, value in enumerate(params)]


def now_marker(round_: int, probe: Probe) -> Any:
    """The stand-in for NOW() in planning round `round_` (UTC, millisecond precision)."""
    return _datetime_marker(_DATES[round_].replace(tzinfo=dt.UTC), probe)
