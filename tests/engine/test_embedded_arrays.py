"""Array, object and variable expressions."""

from __future__ import annotations

DOC = {"a": [1, 2, 3], "o": {"p": {"q": 5}, "a.b": 9}, "rows": [{"k": 1}, {"k": 2}]}


def test_array_elem_at(project):
    assert project({"$arrayElemAt": ["$a", -1]}, DOC) == {"r": 3}
    assert project({"$arrayElemAt": ["$a", 5]}, DOC) == {}  # out of range: missing
    assert project({"$arrayElemAt": ["$a", -5]}, DOC) == {}
    assert project({"$arrayElemAt": ["$missing", 0]}) == {"r": None}


def test_filter_null_input_and_limit(project):
    cond = {"$gt": ["$$x", 1]}
    assert project({"$filter": {"input": "$a", "as": "x", "cond": cond}}, DOC) == {"r": [2, 3]}
    with_limit = {"input": "$a", "as": "x", "cond": cond, "limit": 1}
    assert project({"$filter": with_limit}, DOC) == {"r": [2]}
    assert project({"$filter": {"input": "$missing", "cond": True}}) == {"r": None}


def test_reverse_array(project):
    assert project({"$reverseArray": "$a"}, DOC) == {"r": [3, 2, 1]}
    assert project({"$reverseArray": "$missing"}) == {"r": None}


def test_get_field(project):
    assert project({"$getField": {"field": "a.b", "input": "$o"}}, DOC) == {"r": 9}
    row_expr = {"$arrayElemAt": ["$rows", 1]}
    assert project({"$getField": {"field": "k", "input": row_expr}}, DOC) == {"r": 2}
    assert project({"$getField": {"field": "zz", "input": "$o"}}, DOC) == {}
    assert project({"$getField": {"field": "zz", "input": "$missing"}}) == {"r": None}
    assert project({"$getField": "a.b"}, DOC) == {}  # no top-level field named "a.b"


def test_first_and_last_of_arrays(project):
    assert project({"$first": "$a"}, DOC) == {"r": 1}
    assert project({"$last": "$a"}, DOC) == {"r": 3}
    assert project({"$first": [[]]}) == {}  # the single argument is an empty array
    assert project({"$last": "$missing"}) == {"r": None}


def test_array_literal_turns_missing_into_null(project):
    assert project(["$missing", 1]) == {"r": [None, 1]}


def test_variables(project):
    assert project({"$let": {"vars": {"v": "$o"}, "in": "$$v.p.q"}}, DOC) == {"r": 5}
    assert project({"$map": {"input": "$rows", "in": "$$this.k"}}, DOC) == {"r": [1, 2]}
    assert project({"$cond": [True, "$$REMOVE", 1]}) == {}
    assert project({"$type": "$$NOW"}) == {"r": "date"}
    assert project({"$type": "$$ROOT"}) == {"r": "object"}


def test_accumulators_as_expressions(project):
    doc = {"v": [1, 2.5, "x", None]}
    assert project({"$sum": "$v"}, doc) == {"r": 3.5}
    assert project({"$max": "$v"}, doc) == {"r": "x"}  # strings sort after numbers
    assert project({"$min": [3, 1, None]}) == {"r": 1}
    assert project({"$avg": ["$missing"]}) == {"r": None}
