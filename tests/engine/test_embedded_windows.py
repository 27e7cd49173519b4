"""$setWindowFields: expected values follow MongoDB's documentation of the stage and its window
operators (and the server's jstests for bounds, ties and errors)."""

from __future__ import annotations

import datetime as dt

import pytest
from pymongo.errors import OperationFailure

SALES = [
    {"_id": 1, "shop": "a", "day": 1, "qty": 5},
    {"_id": 2, "shop": "a", "day": 2, "qty": 3},
    {"_id": 3, "shop": "a", "day": 2, "qty": 4},
    {"_id": 4, "shop": "a", "day": 4, "qty": None},
    {"_id": 5, "shop": "b", "day": 1, "qty": 7},
    {"_id": 6, "shop": "b", "day": 3},
]


@pytest.fixture
def sales(db):
    db.s.insert_many([dict(doc) for doc in SALES])
    return db.s


def window(collection, output, partition="$shop", sort=None, extra=()):
    spec = {"output": output}
    if partition is not None:
        spec["partitionBy"] = partition
    if sort is not None:
        spec["sortBy"] = sort
    rows = collection.aggregate([{"$setWindowFields": spec}, *extra])
    return {row["_id"]: {k: v for k, v in row.items() if k in output} for row in rows}


def field(collection, operator, **kwargs):
    return {key: row["v"] for key, row in window(collection, {"v": operator}, **kwargs).items()}


# -- partitions, sorting, output ---------------------------------------------------------------


def test_partitions_and_their_order(sales):
    rows = list(
        sales.aggregate(
            [
                {
                    "$setWindowFields": {
                        "partitionBy": "$shop",
                        "sortBy": {"day": -1, "_id": 1},
                        "output": {"n": {"$documentNumber": {}}},
                    }
                }
            ]
        )
    )
    # Partition by partition (in key order), each sorted by sortBy.
    assert [(row["_id"], row["n"]) for row in rows] == [
        (4, 1), (2, 2), (3, 3), (1, 4), (6, 1), (5, 2)
    ]  # fmt: skip
    assert rows[0] == {**SALES[3], "n": 1}  # the document keeps its fields


def test_missing_and_null_partition_together_but_not_inside_documents(db):
    db.p.insert_many([{"_id": 1, "k": None}, {"_id": 2}, {"_id": 3, "k": 0}])
    assert field(db.p, {"$sum": 1}, partition="$k") == {1: 2, 2: 2, 3: 1}
    # In a document, a missing field is left out: {} and {k: null} differ.
    assert field(db.p, {"$sum": 1}, partition={"k": "$k"}) == {1: 1, 2: 1, 3: 1}


def test_partition_by_an_array_is_an_error(db):
    db.p.insert_one({"_id": 1, "k": [1, 2]})
    with pytest.raises(OperationFailure) as error:
        field(db.p, {"$sum": 1}, partition="$k")
    assert error.value.code == 14


def test_no_partition_and_no_documents(db, sales):
    assert field(sales, {"$count": {}}, partition=None) == dict.fromkeys(range(1, 7), 6)
    assert list(db.empty.aggregate([{"$setWindowFields": {"output": {"v": {"$sum": 1}}}}])) == []


def test_output_paths_nest_and_outputs_read_the_input(db):
    db.p.insert_one({"_id": 1, "a": {"x": 1}, "v": 10})
    stage = {"output": {"a.y": {"$sum": "$v"}, "v": {"$sum": 1}, "w": {"$sum": "$v"}}}
    (row,) = db.p.aggregate([{"$setWindowFields": stage}])
    assert row == {"_id": 1, "a": {"x": 1, "y": 10}, "v": 1, "w": 10}


# -- rank operators ------------------------------------------------------------------------------


def test_document_number_rank_and_dense_rank(sales):
    output = {
        "n": {"$documentNumber": {}},
        "r": {"$rank": {}},
        "d": {"$denseRank": {}},
    }
    rows = window(sales, output, partition=None, sort={"day": 1})
    by_day = sorted((row["n"], SALES[i - 1]["day"], row["r"], row["d"]) for i, row in rows.items())
    # days 1, 1, 2, 2, 3, 4: ties share a rank; $rank leaves gaps, $denseRank does not.
    assert [entry[1:] for entry in by_day] == [
        (1, 1, 1), (1, 1, 1), (2, 3, 2), (2, 3, 2), (3, 5, 3), (4, 6, 4)
    ]  # fmt: skip
    assert [entry[0] for entry in by_day] == [1, 2, 3, 4, 5, 6]


def test_rank_tells_missing_from_null(db):
    # Before MongoDB 8.0 a missing sortBy value and null rank apart.
    db.p.insert_many([{"_id": 1, "k": None}, {"_id": 2}, {"_id": 3, "k": None}])
    ranks = field(db.p, {"$denseRank": {}}, partition=None, sort={"k": 1})
    assert sorted(ranks.values()) != [1, 1, 1]
    db.q.insert_many([{"_id": 1, "k": None}, {"_id": 2, "k": None}, {"_id": 3, "k": 4}])
    assert field(db.q, {"$rank": {}}, partition=None, sort={"k": 1}) == {1: 1, 2: 1, 3: 3}


@pytest.mark.parametrize(
    ("output", "sort", "code"),
    [
        ({"$rank": {}}, None, 5371602),  # needs a sortBy
        ({"$rank": {}}, {"a": 1, "b": 1}, 5371602),  # of exactly one field
        ({"$rank": {}, "window": {"documents": [-1, 1]}}, {"a": 1}, 5371601),  # no window
        ({"$denseRank": "$a"}, {"a": 1}, 5371603),  # no argument
        ({"$documentNumber": {}}, None, 5371602),
    ],
)
def test_rank_operator_errors(sales, output, sort, code):
    with pytest.raises(OperationFailure) as error:
        field(sales, output, sort=sort)
    assert error.value.code == code


# -- $shift ----------------------------------------------------------------------------------------


def test_shift_within_the_partition(sales):
    sort = {"_id": 1}
    previous = field(sales, {"$shift": {"output": "$qty", "by": -1}}, sort=sort)
    assert previous == {1: None, 2: 5, 3: 3, 4: 4, 5: None, 6: 7}
    following = field(sales, {"$shift": {"output": "$_id", "by": 2, "default": "none"}}, sort=sort)
    assert following == {1: 3, 2: 4, 3: "none", 4: "none", 5: "none", 6: "none"}
    assert field(sales, {"$shift": {"output": "$day", "by": 0}}, sort=sort)[3] == 2


def test_shift_default_also_replaces_a_missing_value(sales):
    # _id 6 has no qty: shifting onto it gives the default, shifting onto null gives null.
    values = field(sales, {"$shift": {"output": "$qty", "by": 1, "default": -1}}, sort={"_id": 1})
    assert values == {1: 3, 2: 4, 3: None, 4: -1, 5: -1, 6: -1}


@pytest.mark.parametrize(
    "shift",
    [
        {"output": "$qty"},  # "by" is required
        {"output": "$qty", "by": "1"},
        {"output": "$qty", "by": 1.5},
        {"by": 1},  # "output" is required
        {"output": "$qty", "by": 1, "default": "$qty"},  # default must be a constant
    ],
)
def test_shift_errors(sales, shift):
    with pytest.raises(OperationFailure):
        field(sales, {"$shift": shift}, sort={"_id": 1})


def test_shift_default_can_be_a_constant_expression(sales):
    values = field(
        sales,
        {"$shift": {"output": "$qty", "by": -1, "default": {"$add": [1, 1]}}},
        sort={"_id": 1},
    )
    assert values[1] == 2 and values[5] == 2


# -- documents windows -------------------------------------------------------------------------------


def test_documents_windows(sales):
    sort = {"_id": 1}
    running = {"$sum": "$qty", "window": {"documents": ["unbounded", "current"]}}
    assert field(sales, running, sort=sort) == {1: 5, 2: 8, 3: 12, 4: 12, 5: 7, 6: 7}
    around = {"$push": "$qty", "window": {"documents": [-1, 1]}}
    # $push skips missing values but keeps nulls.
    assert field(sales, around, sort=sort) == {
        1: [5, 3], 2: [5, 3, 4], 3: [3, 4, None], 4: [4, None], 5: [7], 6: [7]
    }  # fmt: skip
    ahead = {"$count": {}, "window": {"documents": [1, "unbounded"]}}
    assert field(sales, ahead, sort=sort) == {1: 3, 2: 2, 3: 1, 4: 0, 5: 1, 6: 0}


def test_empty_windows(sales):
    sort = {"_id": 1}
    before = {"documents": [-2, -1]}
    results = window(
        sales,
        {
            "sum": {"$sum": "$qty", "window": before},
            "avg": {"$avg": "$qty", "window": before},
            "min": {"$min": "$qty", "window": before},
            "first": {"$first": "$qty", "window": before},
            "push": {"$push": "$qty", "window": before},
            "count": {"$count": {}, "window": before},
        },
        sort=sort,
    )
    # No document before the first of a partition.
    empty = {"sum": 0, "avg": None, "min": None, "first": None, "push": [], "count": 0}
    assert results[1] == empty and results[5] == empty
    assert results[4] == {"sum": 7, "avg": 3.5, "min": 3, "first": 3, "push": [3, 4], "count": 2}


def test_accumulators_over_a_partition(sales):
    results = window(
        sales,
        {
            "sum": {"$sum": "$qty"},
            "avg": {"$avg": "$qty"},
            "max": {"$max": "$qty"},
            "last": {"$last": "$qty"},
            "set": {"$addToSet": "$day"},
        },
        sort={"_id": 1},
    )
    # null and missing are skipped by $sum/$avg/$max; $last of a missing value is null.
    for row in results.values():
        row["set"] = sorted(row["set"])  # $addToSet's order is unspecified
    assert results[1] == {"sum": 12, "avg": 4.0, "max": 5, "last": None, "set": [1, 2, 4]}
    assert results[6] == {"sum": 7, "avg": 7.0, "max": 7, "last": None, "set": [1, 3]}


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        ({"$sum": "$qty", "window": {"documents": ["unbounded", "current"]}}, 5339901),
        ({"$sum": "$qty", "window": {"documents": [1, -1]}}, 5339900),
        ({"$sum": "$qty", "window": {"documents": ["current", -1]}}, 5339900),
        ({"$sum": "$qty", "window": {"documents": [0.5, 1]}}, 9),
        ({"$sum": "$qty", "window": {"range": [-1, 1]}}, 5339902),
        ({"$mergeObjects": "$qty"}, 9),
    ],
)
def test_window_errors_without_sort(sales, spec, code):
    with pytest.raises(OperationFailure) as error:
        field(sales, spec)
    assert error.value.code == code


def test_unbounded_documents_window_needs_no_sort(sales):
    spec = {"$max": "$day", "window": {"documents": ["unbounded", "unbounded"]}}
    assert field(sales, spec) == {1: 4, 2: 4, 3: 4, 4: 4, 5: 3, 6: 3}


# -- range windows ---------------------------------------------------------------------------------

XS = [0, 1, 1.5, 2, 3, 100, 100, 101]


@pytest.fixture
def xs(db):
    db.x.insert_many([{"_id": i, "x": x} for i, x in enumerate(XS)])
    return db.x


def pushed(collection, bounds, **window_options):
    spec = {"$push": "$x", "window": {"range": bounds, **window_options}}
    return field(collection, spec, partition=None, sort={"x": 1})


def test_range_windows_include_ties_but_current_means_this_document(xs):
    assert pushed(xs, [-1, 0]) == {
        0: [0], 1: [0, 1], 2: [1, 1.5], 3: [1, 1.5, 2], 4: [2, 3],
        5: [100, 100], 6: [100, 100], 7: [100, 100, 101],
    }  # fmt: skip
    current = pushed(xs, ["current", "current"])
    assert current[5] == [100] and current[6] == [100]
    upto = pushed(xs, ["unbounded", "current"])
    assert sorted(map(len, (upto[5], upto[6]))) == [6, 7]  # the tie that comes later sees both
    assert pushed(xs, ["unbounded", 0])[5] == [0, 1, 1.5, 2, 3, 100, 100]


def test_range_windows_can_be_empty(xs):
    assert pushed(xs, [-1, -1]) == {
        0: [], 1: [0], 2: [], 3: [1], 4: [2], 5: [], 6: [], 7: [100, 100]
    }  # fmt: skip
    assert pushed(xs, [99, "unbounded"])[0] == [100, 100, 101]
    assert pushed(xs, [+999, +999])[7] == []


def test_range_infinite_keys_are_peers(db):
    db.x.insert_many(
        [{"_id": 1, "x": float("-inf")}, {"_id": 2, "x": float("-inf")}, {"_id": 3, "x": 0}]
    )
    assert pushed(db.x, [-5, 5]) == {
        1: [float("-inf")] * 2, 2: [float("-inf")] * 2, 3: [0]
    }  # fmt: skip
    assert pushed(db.x, ["unbounded", -1])[3] == [float("-inf")] * 2


def test_range_window_errors(db, xs):
    with pytest.raises(OperationFailure, match="Expected the sortBy field to be a number"):
        db.x.insert_one({"_id": 99, "x": None})
        pushed(xs, ["unbounded", "unbounded"])
    for sort, code in (({"x": -1}, 8947401), ({"x": 1, "_id": 1}, 5339902)):
        spec = {"$sum": 1, "window": {"range": [-1, 1]}}
        with pytest.raises(OperationFailure) as error:
            field(db.x, spec, partition=None, sort=sort)
        assert error.value.code == code
    with pytest.raises(OperationFailure) as error:
        pushed(xs, [1, -1])
    assert error.value.code == 5339900


def test_time_range_windows(db):
    start = dt.datetime(2024, 1, 30)
    days = [0, 1, 1, 3, 31]
    db.t.insert_many(
        [{"_id": i, "at": start + dt.timedelta(days=d), "v": 1} for i, d in enumerate(days)]
    )
    spec = {"$sum": "$v", "window": {"range": [-1, 0], "unit": "day"}}
    assert field(db.t, spec, partition=None, sort={"at": 1}) == {0: 1, 1: 3, 2: 3, 3: 1, 4: 1}
    month = {"$sum": "$v", "window": {"range": [-1, "current"], "unit": "month"}}
    # 2024-01-30 + 31 days is Mar 1; one month before it is Feb 1: Feb 2 and Mar 1 are in.
    assert field(db.t, month, partition=None, sort={"at": 1})[4] == 2
    db.t.insert_one({"_id": 9, "at": 5, "v": 1})
    with pytest.raises(OperationFailure, match="to be a Date"):
        field(db.t, spec, partition=None, sort={"at": 1})


def test_variables_are_in_scope(db):
    db.p.insert_many([{"_id": 1, "k": 1}, {"_id": 2, "k": 2}])
    stage = {"$setWindowFields": {"partitionBy": "$$NOW", "output": {"n": {"$sum": "$k"}}}}
    assert sorted(row["n"] for row in db.p.aggregate([stage])) == [3, 3]
