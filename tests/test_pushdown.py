"""Join conditions on a grouped relation's keys run before its $group (plan shape; the
results are checked by tests/cases/results/queries.case)."""

from __future__ import annotations

from bson import json_util

from queryleaf.plan.pushdown import filter_before_group


def lookup_pipeline(conn, sql: str) -> list[dict]:
    stages = json_util.loads(conn.explain(sql))["pipeline"]
    (lookup,) = [stage["$lookup"] for stage in stages if "$lookup" in stage]
    return lookup["pipeline"]


def test_a_key_condition_moves_before_the_group(conn) -> None:
    pipeline = lookup_pipeline(
        conn,
        "SELECT u.name, o.n FROM users u JOIN "
        "(SELECT user_id, COUNT(*) AS n FROM orders GROUP BY user_id) o ON o.user_id = u._id",
    )
    assert [next(iter(stage)) for stage in pipeline] == ["$match", "$group", "$project"]
    # Index-friendly: the outer value equals the field itself (a NULL key never joins).
    assert {"$eq": ["$user_id", "$$v0"]} in pipeline[0]["$match"]["$expr"]["$and"]


def test_a_condition_on_an_aggregate_stays_after_the_group(conn) -> None:
    pipeline = lookup_pipeline(
        conn,
        "SELECT u.name FROM users u JOIN "
        "(SELECT user_id, COUNT(*) AS n FROM orders GROUP BY user_id) o "
        "ON o.user_id = u._id AND o.n > 1",
    )
    assert [next(iter(stage)) for stage in pipeline] == ["$group", "$project", "$match"]


def test_other_pipelines_are_left_alone() -> None:
    sorted_groups = [
        {"$group": {"_id": "$k"}},
        {"$project": {"_id": 0, "k": "$_id"}},
        {"$sort": {"k": 1}},
        {"$match": {"$expr": {"$eq": ["$k", 1]}}},
    ]
    assert filter_before_group(sorted_groups) == sorted_groups  # a $limit/$sort could follow
    by_variable = [
        {"$group": {"_id": {"g0": "$$NOW"}}},
        {"$project": {"_id": 0, "k": "$_id.g0"}},
        {"$match": {"$expr": {"$eq": ["$k", 1]}}},
    ]
    assert filter_before_group(by_variable) == by_variable


def test_a_condition_that_could_split_a_group_stays_after_it(conn) -> None:
    # $group merges 1 and 1.0; a string conversion tells them apart: not pushed.
    pipeline = lookup_pipeline(
        conn,
        "SELECT u.name FROM users u JOIN "
        "(SELECT user_id, COUNT(*) AS n FROM orders GROUP BY user_id) o "
        "ON CAST(o.user_id AS CHAR) = CAST(u._id AS CHAR)",
    )
    assert [next(iter(stage)) for stage in pipeline] == ["$group", "$project", "$match"]


def test_coalesce_of_three_values_is_left_as_it_is() -> None:
    pipeline = [
        {"$group": {"_id": "$k"}},
        {"$project": {"_id": 0, "k": "$_id"}},
        {"$match": {"$expr": {"$and": [
            {"$gt": ["$$v0", None]},
            {"$eq": ["$$v0", {"$ifNull": ["$k", "$$v1", 0]}]},
        ]}}},
    ]  # fmt: skip
    moved = filter_before_group(pipeline)
    assert [next(iter(stage)) for stage in moved] == ["$match", "$group", "$project"]
    assert {"$eq": ["$$v0", {"$ifNull": [{"$ifNull": ["$k", None]}, "$$v1", 0]}]} in (
        moved[0]["$match"]["$expr"]["$and"]
    )
