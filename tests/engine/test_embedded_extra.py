"""$range, $sortArray, $setField, $arrayToObject and the $firstN/$lastN accumulators, as the
MongoDB manual documents them."""

from __future__ import annotations

import pytest
from mongomock_ng import OperationFailure

DOC = {"a": [3, 1, 2], "rows": [{"k": 2, "v": "b"}, {"k": 1, "v": "a"}, {"v": "none"}]}


def test_range(project):
    assert project({"$range": [0, 3]}) == {"r": [0, 1, 2]}
    assert project({"$range": [5, 0, -2]}) == {"r": [5, 3, 1]}
    assert project({"$range": [0, -3]}) == {"r": []}
    assert project({"$range": [0, 4.0]}) == {"r": [0, 1, 2, 3]}
    with pytest.raises(OperationFailure):
        project({"$range": [0, 3, 0]})
    with pytest.raises(OperationFailure):
        project({"$range": [0, 2.5]})
    with pytest.raises(OperationFailure):
        project({"$range": [None, 2]})


def test_sort_array_by_value_and_by_field(project):
    assert project({"$sortArray": {"input": "$a", "sortBy": 1}}, DOC) == {"r": [1, 2, 3]}
    assert project({"$sortArray": {"input": "$a", "sortBy": -1}}, DOC) == {"r": [3, 2, 1]}
    by_k = project({"$sortArray": {"input": "$rows", "sortBy": {"k": 1}}}, DOC)
    assert [row["v"] for row in by_k["r"]] == ["none", "a", "b"]  # missing sorts as null
    by_k_desc = project({"$sortArray": {"input": "$rows", "sortBy": {"k": -1}}}, DOC)
    assert [row["v"] for row in by_k_desc["r"]] == ["b", "a", "none"]
    mixed = project({"$sortArray": {"input": ["b", 1, None, "a"], "sortBy": 1}})
    assert mixed == {"r": [None, 1, "a", "b"]}  # BSON order: null < numbers < strings


def test_sort_array_null_input_and_errors(project):
    assert project({"$sortArray": {"input": "$missing", "sortBy": 1}}) == {"r": None}
    with pytest.raises(OperationFailure):
        project({"$sortArray": {"input": "text", "sortBy": 1}})
    with pytest.raises(OperationFailure):
        project({"$sortArray": {"input": "$a", "sortBy": 2}}, DOC)


def test_set_field(project):
    assert project({"$setField": {"field": "a.b", "input": {"x": 1}, "value": 2}}) == {
        "r": {"x": 1, "a.b": 2}
    }
    dollar = {"$setField": {"field": {"$literal": "$price"}, "input": {}, "value": 5}}
    assert project(dollar) == {"r": {"$price": 5}}
    replaced = {"$setField": {"field": "x", "input": {"x": 1, "y": 2}, "value": 3}}
    assert project(replaced) == {"r": {"x": 3, "y": 2}}
    removed = {"$setField": {"field": "x", "input": {"x": 1, "y": 2}, "value": "$$REMOVE"}}
    assert project(removed) == {"r": {"y": 2}}
    assert project({"$setField": {"field": "x", "input": "$missing", "value": 1}}) == {"r": None}
    with pytest.raises(OperationFailure):
        project({"$setField": {"field": "x", "input": 5, "value": 1}})


def test_array_to_object(project):
    pairs = [{"k": "a", "v": 1}, {"k": "b", "v": "$a"}]
    assert project({"$arrayToObject": [pairs]}, DOC) == {"r": {"a": 1, "b": [3, 1, 2]}}
    assert project({"$arrayToObject": {"$literal": [["x", 1], ["y", 2]]}}) == {
        "r": {"x": 1, "y": 2}
    }
    repeated = [{"k": "a", "v": 1}, {"k": "a", "v": 2}]
    assert project({"$arrayToObject": [repeated]}) == {"r": {"a": 2}}  # the last value wins
    assert project({"$arrayToObject": [[]]}) == {"r": {}}
    assert project({"$arrayToObject": "$missing"}) == {"r": None}
    with pytest.raises(OperationFailure):
        project({"$arrayToObject": [[{"k": 1, "v": 1}]]})
    with pytest.raises(OperationFailure):
        project({"$arrayToObject": [[{"k": "a"}]]})


def test_first_n_and_last_n_accumulators(db):
    db.t.insert_many([{"_id": 1, "x": 1}, {"_id": 2, "x": 2}, {"_id": 3}, {"_id": 4, "x": 4}])
    (row,) = db.t.aggregate(
        [
            {"$sort": {"_id": 1}},
            {
                "$group": {
                    "_id": None,
                    "first": {"$firstN": {"input": "$x", "n": 3}},
                    "last": {"$lastN": {"input": "$x", "n": 2}},
                    "all": {"$firstN": {"input": "$x", "n": 10}},
                }
            },
        ]
    )
    assert row["first"] == [1, 2, None]  # a missing input counts as null
    assert row["last"] == [None, 4]
    assert row["all"] == [1, 2, None, 4]


def test_bson_size_of_documents_and_null() -> None:
    import bson

    from queryleaf.engines.embedded import new_client

    db = new_client().test
    db.t.insert_many([{"_id": 1, "d": {"a": "xyz"}}, {"_id": 2}])
    rows = list(db.t.aggregate([{"$sort": {"_id": 1}}, {"$project": {"n": {"$bsonSize": "$d"}}}]))
    assert rows == [{"_id": 1, "n": len(bson.encode({"a": "xyz"}))}, {"_id": 2, "n": None}]
