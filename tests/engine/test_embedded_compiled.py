"""Compiled expressions (engines/embedded/compiled.py) give exactly the interpreter's results:
the same values of the same types, the same errors with the same codes, for documents with
the fields present, null, missing or of the wrong type."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from bson import Decimal128, Int64, MaxKey, MinKey
from mongomock_ng import OperationFailure

from queryleaf.engines.embedded import compiled
from queryleaf.engines.embedded.ordering import compare, type_rank
from queryleaf.engines.embedded.values import MISSING

WHEN = dt.datetime(2026, 3, 4, 5, 6, 7, 890000)

DOCUMENTS: list[dict] = [
    {"a": 5, "b": 2, "s": "completed", "d": WHEN, "n": None, "arr": [1, 2, 3], "o": {"x": 1}},
    {"a": Int64(7), "b": 0, "s": "failed", "d": WHEN, "arr": [{"x": 1}, {"x": 2}, {}]},
    {"a": 2.5, "b": Decimal128("1.10"), "s": "", "n": None, "o": {"x": None}},
    {"a": Decimal128("-3.250"), "b": 4, "s": 3, "arr": "no", "o": []},
    {"a": None, "b": None, "s": None},
    {},
    {"a": "text", "b": True, "s": "completed", "d": "2026-01-01", "arr": []},
]

EXPRESSIONS: list[Any] = [
    # literals, paths, variables, arrays and object literals
    1,
    None,
    "plain",
    "$a",
    "$o.x",
    "$arr.x",
    "$missing.deep",
    "$$ROOT",
    "$$CURRENT.a",
    "$$REMOVE",
    "$$undefined",
    "$$v",
    "$$v.k",
    ["$a", "$missing", {"$literal": "$a"}],
    {"k": "$a", "m": "$missing", "n": {"inner": "$s"}},
    {},
    {"$literal": {"$a": 1}},
    # conditionals
    {"$cond": [{"$gt": ["$a", 3]}, "big", "small"]},
    {"$cond": {"if": "$n", "then": 1, "else": "$missing"}},
    {"$cond": {"if": "$a", "then": 1}},  # malformed: the interpreter's error
    {"$cond": ["$a", 1]},
    {"$ifNull": ["$missing", "$n", "$a", "fallback"]},
    {"$ifNull": ["$n", "$missing"]},
    {"$ifNull": "$a"},
    {"$switch": {"branches": [{"case": {"$eq": ["$s", "completed"]}, "then": 1}], "default": 0}},
    {"$switch": {"branches": [{"case": {"$eq": ["$s", "completed"]}, "then": 1}]}},
    {"$switch": {"branches": []}},
    {"$switch": {"branches": [{"case": True}]}},
    {"$and": ["$a", {"$ne": ["$s", "failed"]}]},
    {"$or": [{"$eq": ["$missing", None]}, "$b"]},
    {"$and": "$a"},
    {"$or": []},
    {"$let": {"vars": {"x": "$a", "y": "$missing"}, "in": {"$ifNull": ["$$y", "$$x"]}}},
    {"$let": {"vars": {"v": {"k": "$s"}}, "in": "$$v.k"}},
    {"$let": {"vars": "$a", "in": 1}},
    {"$let": {"in": 1}},
    # comparisons (missing ranks below null), arity errors
    {"$eq": ["$a", 5]},
    {"$eq": ["$missing", None]},
    {"$lte": ["$missing", None]},
    {"$gt": ["$a", None]},
    {"$lt": ["$s", "d"]},
    {"$cmp": ["$a", "$b"]},
    {"$eq": ["$a"]},
    {"$gt": "$a"},
    # operators the engine implements, through their handlers
    {"$add": ["$a", "$b", 1]},
    {"$add": ["$d", 1000]},
    {"$subtract": ["$a", "$b"]},
    {"$multiply": ["$a", {"$numberDecimal": "10"}]},
    {"$divide": ["$a", "$b"]},
    {"$round": [{"$divide": ["$a", 3]}, 2]},
    {"$abs": "$a"},
    {"$floor": "$a"},
    {"$pow": [10, "$b"]},
    {"$type": "$a"},
    {"$isNumber": "$a"},
    {"$toString": "$a"},
    {"$toDecimal": "$a"},
    {"$concat": ["$s", "-", {"$toString": "$b"}]},
    {"$substrCP": ["$s", 0, 3]},
    {"$strLenCP": "$s"},
    {"$indexOfCP": [{"$toString": "$a"}, "."]},
    {"$convert": {"input": "$d", "to": "date", "onError": None}},
    {"$convert": {"input": "$a", "to": "int", "onError": "bad", "onNull": "none"}},
    {"$dateToString": {"date": "$d", "format": "%Y-%m-%d %H:00:00"}},
    {"$in": ["$a", [5, 2.5, None]]},
    {"$in": ["$a", "$arr"]},
    {"$not": ["$a"]},
    {"$sum": ["$a", "$b"]},
    {"$max": "$arr"},
    {"$arrayElemAt": ["$arr", 1]},
    {"$filter": {"input": "$arr", "as": "i", "cond": {"$gt": ["$$i", 1]}}},
    {"$map": {"input": "$arr", "as": "i", "in": {"$add": ["$$i", "$a"]}}},
    {"$size": "$arr"},
    {"$getField": "a"},
    {"$noSuchOperator": 1},
    {"$add": 1, "$subtract": 2},
    # the shapes the planner emits for SQL's NULL and decimal rules
    {
        "$sum": {
            "$cond": [
                {
                    "$gt": [
                        {
                            "$switch": {
                                "branches": [{"case": {"$eq": ["$s", "completed"]}, "then": 1}],
                                "default": None,
                            }
                        },
                        None,
                    ]
                },
                1,
                0,
            ]
        }
    },
    {
        "$let": {
            "vars": {"qa": {"$multiply": ["$a", 1000]}, "qb": 1000},
            "in": {
                "$cond": [
                    {"$eq": ["$$qb", 0]},
                    None,
                    {
                        "$let": {
                            "vars": {"qq": {"$divide": [{"$toDecimal": "$$qa"}, "$$qb"]}},
                            "in": {"$round": ["$$qq", 4]},
                        }
                    },
                ]
            },
        }
    },
]


def _outcome(function: Any, *arguments: Any) -> tuple[str, Any]:
    try:
        value = function(*arguments)
    except Exception as error:  # the same error, message and code
        return "error", (type(error), str(error), getattr(error, "code", None))
    return "value", _typed(value)


def _typed(value: Any) -> Any:
    """A value with the types of everything in it, so 1 and 1.0 and Int64(1) differ."""
    if value is MISSING:
        return "<missing>"
    if isinstance(value, dict):
        return ("dict", [(key, _typed(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("list", [_typed(item) for item in value])
    if isinstance(value, Decimal128):
        return ("decimal", str(value))
    return (type(value).__name__, value)


@pytest.mark.parametrize("expression", EXPRESSIONS, ids=repr)
def test_compiled_expression_equals_the_interpreter(expression: Any) -> None:
    function = compiled.compile_expression(expression)
    for document in DOCUMENTS:
        for variables in ({}, {"v": {"k": "$a"}, "NOW": WHEN}):
            interpreted = _outcome(compiled.interpret, expression, document, variables)
            assert _outcome(function, document, variables) == interpreted, document


def test_compiled_evaluation_raises_the_server_codes() -> None:
    with pytest.raises(OperationFailure) as undefined:
        compiled.compile_expression("$$nope")({}, {})
    assert undefined.value.code == 17276
    with pytest.raises(OperationFailure) as divide:
        compiled.compile_expression({"$divide": ["$a", "$b"]})({"a": 1, "b": 0}, {})
    assert divide.value.code == 16608
    with pytest.raises(OperationFailure, match="no default was specified"):
        branches = [{"case": False, "then": 1}]
        compiled.compile_expression({"$switch": {"branches": branches}})({}, {})


def test_an_expression_is_compiled_from_its_second_evaluation_in_a_pipeline_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(compiled, "COMPILE_AT", 2)  # the engine's setting
    expression = {"$add": ["$a", 1]}
    assert compiled.evaluate(expression, {"a": 1}) == 2  # outside a run: interpreted
    with compiled.pipeline_cache():
        (cache,) = compiled._local.stack[-1:]
        assert compiled.evaluate(expression, {"a": 1}) == 2
        assert cache[id(expression)][2] is None  # once: interpreted
        assert compiled.evaluate(expression, {"a": 2}) == 3
        assert callable(cache[id(expression)][2])  # twice: compiled, then reused
        assert compiled.evaluate(expression, {"a": 3}) == 4
    assert compiled._local.stack == []


def test_group_stage_results_with_missing_null_and_mixed_numbers(db: Any) -> None:
    db.t.insert_many(
        [
            {"_id": 1, "k": "a", "v": 1},
            {"_id": 2, "k": "a", "v": Decimal128("2.5")},
            {"_id": 3, "k": None, "v": 2.0},
            {"_id": 4, "v": "x"},
            {"_id": 5, "k": "a"},
        ]
    )
    rows = list(
        db.t.aggregate(
            [
                {
                    "$group": {
                        "_id": "$k",
                        "n": {"$sum": 1},
                        "total": {"$sum": "$v"},
                        "avg": {"$avg": "$v"},
                        "top": {"$max": "$v"},
                        "first": {"$first": "$v"},
                        "seen": {"$push": "$v"},
                    }
                },
                {"$sort": {"_id": 1}},
            ]
        )
    )
    # A missing key groups with null; $sum and $avg skip non-numbers; $max ranks strings
    # above numbers; $push leaves missing out.
    assert rows == [
        {
            "_id": None,
            "n": 2,
            "total": 2.0,
            "avg": 2.0,
            "top": "x",
            "first": 2.0,
            "seen": [2.0, "x"],
        },
        {
            "_id": "a",
            "n": 3,
            "total": Decimal128("3.5"),
            "avg": Decimal128("1.75"),
            "top": Decimal128("2.5"),
            "first": 1,
            "seen": [1, Decimal128("2.5")],
        },
    ]


@pytest.mark.parametrize(
    "left",
    ["a", "b", 1, 2, Int64(2), 2.0, True, None, MISSING, MinKey(), MaxKey(), WHEN, [1], {"a": 1}],
    ids=repr,
)
def test_comparison_shortcuts_keep_the_bson_order(left: Any) -> None:
    right_values = ["a", "b", 1, 2, Int64(2), 2.0, True, None, MISSING, MinKey(), MaxKey(), WHEN]
    for right in right_values:
        result = compare(left, right)
        rank_left, rank_right = type_rank(left), type_rank(right)
        if rank_left != rank_right:
            assert result == (-1 if rank_left < rank_right else 1), right
        elif type(left) is type(right) and type(left) in (str, int):
            assert result == (left > right) - (left < right)
        assert compare(right, left) == -result
