"""Behaviour mongomock-ng already had right, pinned because the planner relies on it."""

from __future__ import annotations


def test_split_with_null_operands_is_null(project):
    assert project({"$split": ["a,b", ","]}) == {"r": ["a", "b"]}
    assert project({"$split": ["$missing", ","]}) == {"r": None}
    assert project({"$split": ["a,b", None]}) == {"r": None}


def test_merge_objects_skips_null_and_missing(project):
    spec = {"$mergeObjects": [{"a": 1}, "$n", {"b": 2}, "$missing"]}
    assert project(spec, {"n": None}) == {"r": {"a": 1, "b": 2}}


def test_if_null_takes_the_first_non_null_of_several(project):
    assert project({"$ifNull": ["$missing", "$n", "z"]}, {"n": None}) == {"r": "z"}
    assert project({"$ifNull": ["$missing", "$v", "z"]}, {"v": 0}) == {"r": 0}


def test_update_pipeline_with_expressions(db):
    db.w.insert_many([{"_id": 1, "x": 1, "name": "ab", "r": 1}, {"_id": 2, "name": "c"}])
    db.w.update_many(
        {}, [{"$set": {"x": {"$add": ["$x", 1]}, "name": {"$toUpper": "$name"}}}, {"$unset": "r"}]
    )
    assert list(db.w.find()) == [
        {"_id": 1, "x": 2, "name": "AB"},
        {"_id": 2, "name": "C", "x": None},
    ]


def test_update_with_dotted_set_and_find_with_projection_sort_skip_limit(db):
    db.w.insert_many([{"_id": i, "a": {"b": i, "c": 0}, "items": [{"qty": 1}]} for i in range(5)])
    db.w.update_many({}, {"$set": {"items.0.qty": 5, "a.c": 1}})
    assert db.w.find_one({"_id": 0}) == {"_id": 0, "a": {"b": 0, "c": 1}, "items": [{"qty": 5}]}
    rows = (
        db.w.find({"$expr": {"$gte": ["$a.b", 1]}}, {"a.b": 1, "_id": 0})
        .sort([("a.b", -1)])
        .skip(1)
        .limit(2)
    )
    assert list(rows) == [{"a": {"b": 3}}, {"a": {"b": 2}}]


def test_expression_forms_the_planner_emits(project):
    doc = {"x": 5, "a": [1, 2, 3]}
    switch = {
        "branches": [
            {"case": {"$lt": ["$x", 3]}, "then": "lo"},
            {"case": {"$lt": ["$x", 10]}, "then": "mid"},
        ],
        "default": "hi",
    }
    assert project({"$switch": switch}, doc) == {"r": "mid"}
    assert project({"$cond": {"if": "$missing", "then": 1, "else": 2}}) == {"r": 2}
    assert project({"$literal": "$a"}, doc) == {"r": "$a"}
    assert project({"$map": {"input": "$a", "as": "v", "in": {"$multiply": ["$$v", 2]}}}, doc) == {
        "r": [2, 4, 6]
    }
    assert project({"$size": {"$setUnion": ["$a", [3, 4]]}}, doc) == {"r": 4}
    assert project(
        {
            "$reduce": {
                "input": ["x", "y"],
                "initialValue": "",
                "in": {"$concat": ["$$value", "$$this"]},
            }
        }
    ) == {"r": "xy"}


def test_stages_the_planner_emits(db):
    db.s.insert_many([{"_id": i, "g": i % 2, "o": {"p": i}} for i in range(5)])
    assert list(db.s.aggregate([{"$match": {"$expr": False}}])) == []
    assert len(list(db.s.aggregate([{"$match": {"$expr": True}}]))) == 5
    pipeline = [
        {"$sort": {"_id": 1}},
        {"$skip": 1},
        {"$limit": 2},
        {"$project": {"_id": 0, "o": 1, "twice": {"$multiply": ["$_id", 2]}}},
    ]
    assert list(db.s.aggregate(pipeline)) == [
        {"o": {"p": 1}, "twice": 2},
        {"o": {"p": 2}, "twice": 4},
    ]
    assert list(db.s.aggregate([{"$match": {"_id": 1}}, {"$replaceWith": "$o"}])) == [{"p": 1}]
    assert list(
        db.s.aggregate([{"$match": {"_id": 1}}, {"$replaceRoot": {"newRoot": {"q": "$o.p"}}}])
    ) == [{"q": 1}]
    assert list(db.s.aggregate([{"$match": {"_id": 1}}, {"$unset": ["o", "g"]}])) == [{"_id": 1}]
    assert list(db.s.aggregate([{"$match": {"_id": 1}}, {"$unset": "o"}])) == [{"_id": 1, "g": 1}]
    facet = {"n": [{"$count": "n"}], "odd": [{"$match": {"g": 1}}, {"$project": {"_id": 1}}]}
    assert list(db.s.aggregate([{"$facet": facet}])) == [
        {"n": [{"n": 5}], "odd": [{"_id": 1}, {"_id": 3}]}
    ]
