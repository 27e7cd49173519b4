"""Constant SQL expressions to Python/BSON values: literals, bound parameters, OBJECTID(),
JSON_OBJECT()/JSON_ARRAY() document literals and typed date literals."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import bson
from bson import ObjectId
from bson.errors import InvalidDocument
from sqlglot import exp

from queryleaf.errors import ParameterError, SemanticError
from queryleaf.plan.markers import midnight

OBJECT_ID_TEXT = re.compile(r"^[0-9a-fA-F]{24}$")


class NotConstant(Exception):
    """The expression depends on data and must be translated, not folded."""


class Bindings:
    """Values for the placeholders of one statement: `?` by position, `:name` by name.
    `now` is the statement's NOW() when it is bound once per execution (as MySQL does);
    None keeps NOW() a server variable ($$NOW: views, live queries, subscriptions)."""

    def __init__(
        self,
        statement: exp.Expression,
        params: Any,
        text: str = "",
        now: dt.datetime | None = None,
        scan: bool = True,
    ) -> None:
        self._values: dict[int, Any] = {}
        if params is not None and (
            isinstance(params, str | bytes) or not isinstance(params, Mapping | Sequence)
        ):
            # A bare string is a sequence of characters: "abc" would bind '?' to 'a'.
            raise ParameterError(
                f"params must be a list of values or a mapping of names, not "
                f"{type(params).__name__} {params!r:.40}",
                hint="pass params=[value] for '?' placeholders, or params={'name': value} "
                "for :name",
                code="QL404",
            )
        self.now = now
        if not scan:
            return
        placeholders = placeholders_in_text_order(statement, text)
        if not placeholders:
            return
        offsets = placeholder_offsets(text)

        def where(rank: int) -> int | None:
            """Where the rank-th placeholder (in text order) is written: the caret's place."""
            return offsets[rank] if len(offsets) == len(placeholders) else None

        if params is None:
            raise ParameterError(
                "the statement has placeholders but no parameters were given",
                offset=where(0),
                hint="pass params=... to run_sql, or --param name=value on the command line",
                code="QL401",
            )
        position = 0
        for rank, node in enumerate(placeholders):
            name = node.name
            if name and name != "?" and not name.isdigit():
                if not isinstance(params, Mapping) or name not in params:
                    raise ParameterError(
                        f"no value for parameter :{name}",
                        offset=where(rank),
                        hint=f"pass params={{'{name}': ...}}",
                        code="QL402",
                    )
                self._values[id(node)] = params[name]
            else:
                if isinstance(params, Mapping):
                    raise ParameterError(
                        "positional '?' placeholders need a list of values, not a mapping",
                        offset=where(rank),
                        hint="pass params=[...] in placeholder order",
                        code="QL403",
                    )
                if position >= len(params):
                    raise ParameterError(
                        f"placeholder {position + 1} has no value ({len(params)} given)",
                        offset=where(rank),
                        hint="pass one value per '?'",
                        code="QL402",
                    )
                self._values[id(node)] = params[position]
                position += 1

    def value(self, node: exp.Placeholder) -> Any:
        if id(node) not in self._values:
            raise ParameterError("this placeholder cannot be bound here", node=node, code="QL402")
        value = self._values[id(node)]
        _check_storable(value, node)
        return value


def _check_storable(value: Any, node: exp.Expression) -> None:
    """A parameter must be a value BSON can carry (checked when it is bound, so that EXPLAIN
    refuses it as running would)."""
    if value is None or isinstance(value, bool | int | float | str):
        return  # the encoder's own checks (64-bit integers, valid Unicode) come later: QL308
    try:
        bson.encode({"v": value})
    except (InvalidDocument, TypeError, ValueError, OverflowError, UnicodeEncodeError) as error:
        raise ParameterError(
            f"a parameter of type {type(value).__name__} cannot be sent to MongoDB",
            node=node,
            hint="pass None, bool, int, float, str, datetime, bytes, ObjectId, Decimal128, "
            "or lists and dicts of them"
            + (f" ({str(error).splitlines()[0][:80]})" if str(error) else ""),
            code="QL405",
        ) from None


# Where each clause of a query stands in the text; sqlglot keeps no positions on
# placeholders and stores LIMIT before FROM, so tree order is not text order.
_CLAUSE_RANK = {
    "with": 0, "with_": 0, "expressions": 1, "from": 2, "from_": 2, "joins": 3, "where": 4,
    "group": 5, "having": 6, "qualify": 7, "windows": 7, "order": 8, "limit": 9, "offset": 10,
}  # fmt: skip
_LIMIT_OFFSET_FIRST = re.compile(r"\bLIMIT\s+\?\s*,\s*\?", re.IGNORECASE)


def placeholder_offsets(text: str) -> list[int]:
    """The offsets of the `?` and `:name` placeholders of `text`, outside strings and
    comments, in the order they are written."""
    if not text or ("?" not in text and ":" not in text):
        return []
    from sqlglot.dialects.mysql import MySQL
    from sqlglot.tokens import TokenType

    try:
        tokens = MySQL().tokenize(text)
    except Exception:  # the parser already accepted it; without tokens, no better caret
        return []
    offsets = []
    for index, token in enumerate(tokens):
        if token.token_type == TokenType.PLACEHOLDER or (
            token.token_type == TokenType.COLON
            and index + 1 < len(tokens)
            and tokens[index + 1].start == token.end + 1
            and tokens[index + 1].token_type in (TokenType.VAR, TokenType.NUMBER)
            and (index == 0 or tokens[index - 1].token_type != TokenType.COLON)
        ):
            offsets.append(token.start)
    return offsets


def placeholders_in_text_order(statement: exp.Expression, text: str) -> list[exp.Placeholder]:
    """The placeholders of a statement in the order they are written."""
    if statement.find(exp.Placeholder) is None:  # sqlglot's compiled walk: most have none
        return []
    ranks = dict(_CLAUSE_RANK)
    if _LIMIT_OFFSET_FIRST.search(text):
        ranks["offset"], ranks["limit"] = 9, 10  # MySQL's LIMIT offset, count
    found: list[tuple[tuple[tuple[int, int], ...], exp.Placeholder]] = []

    def visit(node: exp.Expression, path: tuple[tuple[int, int], ...]) -> None:
        if isinstance(node, exp.Placeholder):
            found.append((path, node))
        is_query = isinstance(node, exp.Query)
        order = list(type(node).arg_types)
        for key, value in node.args.items():
            if is_query and key in ranks:
                rank = ranks[key]
            else:
                rank = 100 + (order.index(key) if key in order else len(order))
            children = value if isinstance(value, list) else [value]
            for index, child in enumerate(children):
                if isinstance(child, exp.Expression):
                    visit(child, (*path, (rank, index)))

    visit(statement, ())
    found.sort(key=lambda item: item[0])
    return [node for _, node in found]


def struct_pairs(node: exp.Struct) -> list[tuple[str, exp.Expression]]:
    """The keys and value nodes of a document literal `{"k": v, 'k2': v2, k3: v3}` (QueryLeaf's
    syntax, read by sqlglot as a STRUCT); a repeated key keeps its last value."""
    pairs: list[tuple[str, exp.Expression]] = []
    for pair in node.expressions:
        if isinstance(pair, exp.PropertyEQ | exp.Slice) and isinstance(
            pair.this, exp.Identifier | exp.Literal | exp.Column
        ):
            pairs.append((pair.this.name, pair.expression))
            continue
        raise SemanticError(
            'a document literal takes "key": value pairs',
            node=pair,
            hint='write {"city": "Paris", "tags": ["a", "b"]}',
            code="QL304",
        )
    return pairs


def constant_value(node: exp.Expression, bindings: Bindings | None = None) -> Any:
    """The value of a constant expression, or NotConstant."""
    if not could_be_constant(node):
        raise NotConstant
    if isinstance(node, exp.Literal):
        if node.is_string:
            return node.this
        return number(node.this)
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Paren):
        return constant_value(node.this, bindings)
    if isinstance(node, exp.Neg):
        inner = constant_value(node.this, bindings)
        if isinstance(inner, int | float) and not isinstance(inner, bool):
            return -inner
        raise NotConstant
    if isinstance(node, exp.Placeholder):
        if bindings is None:
            raise NotConstant
        return bindings.value(node)
    if isinstance(node, exp.JSONObject):
        document: dict[str, Any] = {}
        for pair in node.expressions:
            if not isinstance(pair, exp.JSONKeyValue):
                raise NotConstant
            key = constant_value(pair.this, bindings)
            if not isinstance(key, str):
                raise SemanticError(
                    "JSON_OBJECT keys must be strings", node=pair.this, code="QL304"
                )
            document[key] = constant_value(pair.expression, bindings)
        return document
    if isinstance(node, exp.Struct):  # a document literal: {"city": "Paris", "tags": [...]}
        return {key: constant_value(value, bindings) for key, value in struct_pairs(node)}
    if isinstance(node, exp.Array | exp.JSONArray) or _is_function(node, "JSON_ARRAY"):
        return [constant_value(item, bindings) for item in node.expressions]
    if _is_function(node, "OBJECTID"):
        return object_id(node, bindings)
    if isinstance(node, exp.Cast) and node.to.is_type(*DATE_TYPES):
        value = constant_value(node.this, bindings)
        if isinstance(value, str):
            return parse_datetime(value, node)
        raise NotConstant
    if bindings is not None and bindings.now is not None:
        return now_relative(node, bindings.now)
    raise NotConstant


# Every node class `constant_value` (and `now_relative`, which it may call) folds; any
# other node (a column, most operators and calls) is never a constant.
_MAYBE_CONSTANT = (
    exp.Literal, exp.Null, exp.Boolean, exp.Paren, exp.Neg, exp.Placeholder, exp.JSONObject,
    exp.Struct, exp.Array, exp.JSONArray, exp.Anonymous, exp.Cast, exp.CurrentTimestamp,
    exp.UtcTimestamp, exp.CurrentDate, exp.DateAdd, exp.DateSub, exp.Add, exp.Sub,
)  # fmt: skip


def could_be_constant(node: exp.Expression) -> bool:
    """False for a node `constant_value` always refuses (asked before paying an exception)."""
    return isinstance(node, _MAYBE_CONSTANT)


DATE_TYPES = (
    exp.DataType.Type.DATE,
    exp.DataType.Type.DATETIME,
    exp.DataType.Type.TIMESTAMP,
    exp.DataType.Type.TIMESTAMPTZ,
)


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def number(text: str) -> int | float:
    """A numeric literal: an integer MongoDB can store (64 bits) or a finite double."""
    try:
        value: int | float = int(text)
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            value = math.inf
    if isinstance(value, int) and INT64_MIN <= value <= INT64_MAX:
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    shown = text if len(text) <= 40 else text[:37] + "..."
    raise SemanticError(
        f"the number {shown} is out of range: MongoDB stores 64-bit integers and doubles",
        hint="for larger exact values use a string, or CAST('...' AS DECIMAL)",
        code="QL306",
    )


def object_id(node: exp.Expression, bindings: Bindings | None) -> ObjectId:
    args = node.expressions
    if len(args) != 1:
        raise SemanticError(
            "OBJECTID takes one argument: a 24-character hexadecimal string",
            node=node,
            code="QL304",
        )
    text = constant_value(args[0], bindings)
    if isinstance(text, ObjectId):
        return text
    if not isinstance(text, str) or not OBJECT_ID_TEXT.match(text):
        raise SemanticError(
            f"OBJECTID({text!r}) is not a valid ObjectId",
            node=node,
            hint="an ObjectId is 24 hexadecimal characters",
            code="QL306",
        )
    return ObjectId(text)


def parse_datetime(text: str, node: exp.Expression) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError:
        raise SemanticError(
            f"{text!r} is not a date or timestamp",
            node=node,
            hint="write 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS[.ffffff]'",
            code="QL306",
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def _is_function(node: exp.Expression, name: str) -> bool:
    return isinstance(node, exp.Anonymous) and node.name.upper() == name


def is_object_id_text(value: Any) -> bool:
    return isinstance(value, str) and bool(OBJECT_ID_TEXT.match(value))


# -- NOW() bound once per statement ---------------------------------------------------------

_NOW_NAMES = {"NOW", "CURRENT_TIMESTAMP", "LOCALTIME", "LOCALTIMESTAMP", "UTC_TIMESTAMP"}
_FIXED_UNITS = {
    "MICROSECOND": dt.timedelta(microseconds=1), "SECOND": dt.timedelta(seconds=1),
    "MINUTE": dt.timedelta(minutes=1), "HOUR": dt.timedelta(hours=1),
    "DAY": dt.timedelta(days=1), "WEEK": dt.timedelta(weeks=1),
}  # fmt: skip
_MONTH_UNITS = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}
_INTEGER = re.compile(r"^[+-]?\d{1,9}$")


def now_relative(node: exp.Expression, now: dt.datetime) -> dt.datetime:
    """NOW(), CURRENT_TIMESTAMP, CURDATE() and those moved by a constant whole interval
    (DATE_SUB(NOW(), INTERVAL 1 HOUR), NOW() - INTERVAL 2 DAY), folded to a date; else
    NotConstant. The arithmetic is MySQL's and MongoDB's $dateAdd: months clamp to the
    month's last day."""
    if isinstance(node, exp.Paren):
        return now_relative(node.this, now)
    if isinstance(node, exp.CurrentTimestamp | exp.UtcTimestamp) and not node.args.get("this"):
        return now
    if isinstance(node, exp.CurrentDate) and not node.args.get("this"):
        return midnight(now)
    if isinstance(node, exp.Anonymous):
        name = node.name.upper()
        if name in _NOW_NAMES and len(node.expressions) <= 1:
            if node.expressions and not _is_integer_literal(node.expressions[0]):
                raise NotConstant
            return now
        if name in ("CURDATE", "CURRENT_DATE") and not node.expressions:
            return midnight(now)
        raise NotConstant
    if isinstance(node, exp.DateAdd | exp.DateSub):
        unit = node.args.get("unit")
        sign = -1 if isinstance(node, exp.DateSub) else 1
        return moved_date(now_relative(node.this, now), node.expression, unit, sign)
    if isinstance(node, exp.Add | exp.Sub):
        left, right = node.this, node.expression
        if isinstance(right, exp.Interval):
            sign = -1 if isinstance(node, exp.Sub) else 1
            return moved_date(now_relative(left, now), right.this, right.args.get("unit"), sign)
        if isinstance(left, exp.Interval) and isinstance(node, exp.Add):
            return moved_date(now_relative(right, now), left.this, left.args.get("unit"), 1)
    raise NotConstant


def _is_integer_literal(node: exp.Expression) -> bool:
    return isinstance(node, exp.Literal) and bool(_INTEGER.match(node.this))


def moved_date(
    start: dt.datetime, amount: exp.Expression, unit: exp.Expression | None, sign: int
) -> dt.datetime:
    if isinstance(amount, exp.Interval):  # DATE_SUB(NOW(), INTERVAL 1 HOUR) in some forms
        unit, amount = amount.args.get("unit"), amount.this
    negative = isinstance(amount, exp.Neg)
    if negative:
        amount = amount.this
    if not _is_integer_literal(amount):
        raise NotConstant
    count = int(amount.this) * (-1 if negative else 1) * sign
    name = (unit.name if unit is not None else "DAY").upper().removeprefix("SQL_TSI_")
    if name in _FIXED_UNITS:
        return start + _FIXED_UNITS[name] * count
    if name in _MONTH_UNITS:
        return _add_months(start, count * _MONTH_UNITS[name])
    raise NotConstant


def _add_months(start: dt.datetime, months: int) -> dt.datetime:
    import calendar

    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise NotConstant
    last = calendar.monthrange(year, month + 1)[1]
    return start + (
        dt.datetime(year, month + 1, min(start.day, last), tzinfo=start.tzinfo)
        - start.replace(hour=0, minute=0, second=0, microsecond=0)
    )
