"""Comparison and boolean operators: missing ranks below null, numbers compare across types."""

from __future__ import annotations

from bson import Decimal128


def test_missing_is_lower_than_null_and_not_equal_to_it(project):
    assert project({"$lte": ["$missing", None]}) == {"r": True}
    assert project({"$lt": ["$missing", None]}) == {"r": True}
    assert project({"$gt": ["$missing", None]}) == {"r": False}
    assert project({"$eq": ["$missing", None]}) == {"r": False}
    assert project({"$ne": ["$missing", None]}) == {"r": True}
    assert project({"$eq": ["$missing", "$other_missing"]}) == {"r": True}
    assert project({"$lt": ["$missing", 5]}) == {"r": True}


def test_null_field_compared_with_null(project):
    doc = {"n": None}
    assert project({"$gt": ["$n", None]}, doc) == {"r": False}
    assert project({"$gte": ["$n", None]}, doc) == {"r": True}
    assert project({"$eq": ["$n", None]}, doc) == {"r": True}


def test_cmp(project):
    assert project({"$cmp": [1, 2]}) == {"r": -1}
    assert project({"$cmp": ["b", "a"]}) == {"r": 1}
    assert project({"$cmp": ["a", 5]}) == {"r": 1}  # strings sort after numbers


def test_in_does_not_take_missing_for_null(project):
    assert project({"$in": ["$missing", [None]]}) == {"r": False}
    assert project({"$in": ["$n", [None]]}, {"n": None}) == {"r": True}
    assert project({"$in": [2.0, [1, 2, 3]]}) == {"r": True}


def test_decimals_compare_with_other_numbers(project):
    doc = {"d": Decimal128("1.5")}
    assert project({"$eq": ["$d", 1.5]}, doc) == {"r": True}
    assert project({"$lt": ["$d", 2]}, doc) == {"r": True}


def test_not_accepts_a_one_element_list(project):
    assert project({"$not": ["$missing"]}) == {"r": True}
    assert project({"$not": [1]}) == {"r": False}


def test_truthiness_of_decimal_zero_and_empty_array(project):
    assert project({"$cond": [Decimal128("0"), "t", "f"]}) == {"r": "f"}
    assert project({"$cond": [[], "t", "f"]}) == {"r": "t"}
    assert project({"$and": [1, "$missing"]}) == {"r": False}
    assert project({"$or": [0, "x"]}) == {"r": True}
