"""Pipeline stages and the database-level aggregate."""

from __future__ import annotations

import pytest
from bson import Decimal128
from pymongo.errors import OperationFailure

PEOPLE = [
    {"_id": 1, "a": 1, "g": "x", "v": 5},
    {"_id": 2, "a": None, "g": "x", "v": "s"},
    {"_id": 3, "g": "y", "v": 2.5},
    {"_id": 4, "a": 3, "v": None},
]


@pytest.fixture
def people(db):
    db.p.insert_many([dict(doc) for doc in PEOPLE])
    return db.p


def ids(documents):
    return [document["_id"] for document in documents]


def test_count_of_nothing_outputs_no_document(db, people):
    assert list(db.empty.aggregate([{"$count": "n"}])) == []
    assert list(people.aggregate([{"$match": {"_id": 0}}, {"$count": "n"}])) == []
    assert list(people.aggregate([{"$count": "n"}])) == [{"n": 4}]


def test_documents_stage_on_the_database(db):
    pipeline = [{"$documents": [{}]}, {"$project": {"_id": 0, "x": {"$add": [1, 2]}}}]
    assert list(db.aggregate(pipeline)) == [{"x": 3}]
    rows = [{"$documents": [{"a": 1}, {"a": 2}]}, {"$match": {"a": 2}}]
    assert list(db.aggregate(rows)) == [{"a": 2}]
    with pytest.raises(OperationFailure):
        db.aggregate([{"$project": {"a": 1}}])


def test_lookup_with_both_local_field_and_pipeline(db):
    db.orders.insert_many(
        [{"_id": 1, "k": 1, "q": 5}, {"_id": 2, "k": 1, "q": 50}, {"_id": 3, "k": 2, "q": 70}]
    )
    db.items.insert_one({"_id": 10, "k": 1, "min": 10, "t": {"x": 1}})
    lookup = {
        "from": "orders",
        "localField": "k",
        "foreignField": "k",
        "let": {"m": "$min"},
        "pipeline": [{"$match": {"$expr": {"$gt": ["$q", "$$m"]}}}, {"$project": {"_id": 1}}],
        "as": "t.j",  # a dotted `as` nests the array
    }
    (row,) = db.items.aggregate([{"$lookup": lookup}])
    assert row == {"_id": 10, "k": 1, "min": 10, "t": {"x": 1, "j": [{"_id": 2}]}}


def test_lookup_missing_local_field_matches_null_and_missing(db):
    db.o.insert_many([{"_id": 1, "k": None}, {"_id": 2}, {"_id": 3, "k": 2}])
    db.l.insert_one({"_id": 10})
    lookup = {"from": "o", "localField": "k", "foreignField": "k", "as": "j"}
    (row,) = db.l.aggregate([{"$lookup": lookup}, {"$project": {"j._id": 1}}])
    assert row == {"_id": 10, "j": [{"_id": 1}, {"_id": 2}]}


def test_group_first_and_last_take_missing_as_null(people):
    pipeline = [
        {"$sort": {"_id": -1}},
        {"$group": {"_id": None, "f": {"$first": "$g"}, "l": {"$last": "$a"}}},
    ]
    assert list(people.aggregate(pipeline)) == [{"_id": None, "f": None, "l": 1}]


def test_group_min_max_across_types_and_id_first(people):
    spec = {"_id": None, "lo": {"$min": "$v"}, "hi": {"$max": "$v"}, "n": {"$count": {}}}
    (row,) = people.aggregate([{"$group": spec}])
    assert row == {"_id": None, "lo": 2.5, "hi": "s", "n": 4}
    assert next(iter(row)) == "_id"


def test_group_keys_with_missing_fields(people):
    spec = {"_id": {"g0": "$g", "g1": "$a"}, "n": {"$sum": 1}}
    keys = [row["_id"] for row in people.aggregate([{"$group": spec}])]
    assert sorted(keys, key=repr) == sorted(
        [{"g0": "x", "g1": 1}, {"g0": "x", "g1": None}, {"g0": "y"}, {"g1": 3}], key=repr
    )
    single = people.aggregate([{"$group": {"_id": "$a", "n": {"$sum": 1}}}])
    assert sorted((row["_id"] is None, row["n"]) for row in single) == [
        (False, 1),
        (False, 1),
        (True, 2),
    ]


def test_group_numbers_of_different_types_in_one_group(db):
    db.n.insert_many(
        [{"k": 1, "v": Decimal128("1.5")}, {"k": 1.0, "v": 2}, {"k": Decimal128("1"), "v": "x"}]
    )
    (row,) = db.n.aggregate([{"$group": {"_id": "$k", "s": {"$sum": "$v"}, "a": {"$avg": "$v"}}}])
    assert row["s"].to_decimal() == Decimal128("3.5").to_decimal()
    assert row["a"].to_decimal() == Decimal128("1.75").to_decimal()


def test_set_merges_object_literals_and_removes_missing(db):
    db.s.insert_one({"_id": 1, "o": {"p": 1}, "rows": [{"b": 1}, {"b": 2}], "gone": 1})
    pipeline = [{"$set": {"o": {"q": 2}, "rows.c": 5, "gone": "$$REMOVE"}}]
    assert list(db.s.aggregate(pipeline)) == [
        {"_id": 1, "o": {"p": 1, "q": 2}, "rows": [{"b": 1, "c": 5}, {"b": 2, "c": 5}]}
    ]


def test_sort_orders_arrays_by_extreme_element_and_decimals_by_value(db):
    db.z.insert_many(
        [
            {"_id": 1, "v": [1, 9]},
            {"_id": 2, "v": 5},
            {"_id": 3, "v": Decimal128("2.5")},
            {"_id": 4},
        ]
    )
    assert ids(db.z.aggregate([{"$sort": {"v": 1}}])) == [4, 1, 3, 2]
    assert ids(db.z.aggregate([{"$sort": {"v": -1}}])) == [1, 2, 3, 4]


def test_sort_on_several_keys_with_nulls_and_missing(people):
    assert ids(people.aggregate([{"$sort": {"a": 1, "_id": -1}}])) == [3, 2, 1, 4]
    assert ids(people.aggregate([{"$sort": {"a": -1, "_id": 1}}])) == [4, 1, 2, 3]


def test_unwind_include_array_index_is_null_for_kept_documents(db):
    db.u.insert_many([{"_id": 1, "a": [7, 8]}, {"_id": 2, "a": []}, {"_id": 3}, {"_id": 4, "a": 5}])
    spec = {"path": "$a", "includeArrayIndex": "i", "preserveNullAndEmptyArrays": True}
    assert list(db.u.aggregate([{"$unwind": spec}])) == [
        {"_id": 1, "a": 7, "i": 0},
        {"_id": 1, "a": 8, "i": 1},
        {"_id": 2, "i": None},
        {"_id": 3, "i": None},
        {"_id": 4, "a": 5, "i": None},
    ]


def test_merge_writes_and_returns_nothing(db):
    db.target.insert_one({"_id": 1, "k": "a", "w": 9})
    db.src.insert_many([{"_id": 5, "k": "a", "v": 2}, {"_id": 6, "k": "b", "v": 3}])
    merge = {"into": "target", "on": "k", "whenMatched": "merge", "whenNotMatched": "insert"}
    assert list(db.src.aggregate([{"$project": {"_id": 0}}, {"$merge": merge}])) == []
    assert sorted(db.target.find({}, {"_id": 0}), key=repr) == [
        {"k": "a", "w": 9, "v": 2},
        {"k": "b", "v": 3},
    ]


def test_match_not_regex_with_options(db):
    db.r.insert_many([{"_id": 1, "s": "a\nb"}, {"_id": 2, "s": "ab"}, {"_id": 3, "s": "zz"}])
    query = {"s": {"$not": {"$regex": "^a.b$", "$options": "s"}}}
    assert ids(db.r.aggregate([{"$match": query}])) == [2, 3]
    assert ids(db.r.find(query)) == [2, 3]


def test_find_compares_decimals_with_other_numbers(db):
    db.d.insert_many([{"_id": 1, "v": Decimal128("1.5")}, {"_id": 2, "v": 1}, {"_id": 3, "v": 2.0}])
    assert ids(db.d.find({"v": 1.5})) == [1]
    assert ids(db.d.find({"v": {"$gt": 1}})) == [1, 3]


def test_now_is_the_same_throughout_a_pipeline(db):
    pipeline = [{"$documents": [{}, {}]}, {"$project": {"_id": 0, "t": "$$NOW"}}]
    first, second = db.aggregate(pipeline)
    assert first["t"] == second["t"]


def test_merge_generates_an_id_for_documents_without_one(db):
    db.src.insert_many([{"n": 1}, {"n": 2}])
    assert (
        list(db.src.aggregate([{"$project": {"_id": 0, "n": 1}}, {"$merge": {"into": "dst"}}]))
        == []
    )
    copied = list(db.dst.find())
    assert sorted(doc["n"] for doc in copied) == [1, 2]
    assert all("_id" in doc for doc in copied)


def test_query_type_accepts_lists_numbers_null_and_number(db):
    db.ty.insert_many(
        [
            {"_id": 1, "v": "s"},
            {"_id": 2, "v": None},
            {"_id": 3, "v": 1.5},
            {"_id": 4},
            {"_id": 5, "v": [1, "x"]},
        ]
    )
    assert ids(db.ty.find({"v": {"$type": ["string", "null"]}})) == [1, 2, 5]
    assert ids(db.ty.find({"v": {"$type": 10}})) == [2]
    assert ids(db.ty.find({"v": {"$type": "number"}})) == [3, 5]
    assert ids(db.ty.aggregate([{"$match": {"v": {"$type": "array"}}}])) == [5]


def test_lookup_variables_reach_expr_under_logical_operators() -> None:
    from queryleaf.engines.embedded import new_client

    db = new_client().test
    db.a.insert_one({"_id": 1, "x": 5})
    db.b.insert_many([{"_id": 1, "y": 5}, {"_id": 2, "y": 6}])
    pipeline = [
        {
            "$lookup": {
                "from": "b",
                "let": {"v": "$x"},
                "pipeline": [
                    {"$match": {"$and": [{"_id": {"$gt": 0}}, {"$expr": {"$eq": ["$y", "$$v"]}}]}},
                    {"$match": {"$or": [{"$expr": {"$eq": ["$y", "$$v"]}}, {"_id": 99}]}},
                    {"$match": {"$nor": [{"$expr": {"$ne": ["$y", "$$v"]}}]}},
                ],
                "as": "j",
            }
        }
    ]
    (row,) = db.a.aggregate(pipeline)
    assert row["j"] == [{"_id": 1, "y": 5}]
