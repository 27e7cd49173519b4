"""Window functions: the MQL they translate to, the cases refused, and a few results that need
data of their own (dates). Result cases over the shared datasets are in
tests/cases/results/windows.case; tests/test_windows_sqlite.py compares with SQLite."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import queryleaf
from queryleaf.compile import compile_statement


def pipeline(sql: str, params: Any = None) -> list[dict[str, Any]]:
    return compile_statement(sql, params=params).command["pipeline"]


def window_stages(sql: str) -> list[dict[str, Any]]:
    return [s["$setWindowFields"] for s in pipeline(sql) if "$setWindowFields" in s]


# -- translation -----------------------------------------------------------------------------


def test_ranking_over_a_plain_path_is_one_stage() -> None:
    assert pipeline(
        "SELECT name, ROW_NUMBER() OVER (PARTITION BY dept ORDER BY salary DESC) AS rn FROM emp"
    ) == [
        {
            "$setWindowFields": {
                "partitionBy": "$dept",
                "sortBy": {"salary": -1},
                "output": {"__w0": {"$documentNumber": {}}},
            }
        },
        {"$project": {"_id": 0, "name": "$name", "rn": "$__w0"}},
    ]


def test_running_total_takes_the_value_at_the_last_peer() -> None:
    """The default frame (RANGE ... CURRENT ROW) includes peers: a running sum over documents,
    then per (partition, ORDER BY values) the value of the last row by $documentNumber."""
    stages = pipeline("SELECT SUM(x) OVER (PARTITION BY g ORDER BY d) AS s FROM t")
    running = {"documents": ["unbounded", "current"]}
    assert stages == [
        {
            "$setWindowFields": {
                "partitionBy": "$g",
                "sortBy": {"d": 1},
                "output": {
                    "__w1": {"$sum": "$x", "window": running},
                    "__w2": {"$avg": "$x", "window": running},
                    "__wn3": {"$documentNumber": {}},
                },
            }
        },
        {
            "$setWindowFields": {
                "partitionBy": {"p0": {"$ifNull": ["$g", None]}, "k0": {"$ifNull": ["$d", None]}},
                "sortBy": {"__wn3": 1},
                "output": {
                    "__w0": {"$last": {"$cond": [{"$gt": ["$__w2", None]}, "$__w1", None]}},
                },
            }
        },
        {"$project": {"_id": 0, "s": "$__w0"}},
    ]


def test_rows_frames_need_no_peers() -> None:
    (stage,) = window_stages(
        "SELECT AVG(x) OVER (ORDER BY d ROWS BETWEEN 3 PRECEDING AND 1 FOLLOWING) AS a FROM t"
    )
    assert stage == {"sortBy": {"d": 1}, "output": {"__w0": {"$avg": "$x", "window": {"documents": [-3, 1]}}}}  # fmt: skip


def test_expressions_in_order_by_are_computed_first() -> None:
    stages = pipeline("SELECT RANK() OVER (ORDER BY a + b DESC) AS r FROM t")
    assert stages[0] == {"$set": {"__wk1": {"$ifNull": [{"$add": ["$a", "$b"]}, None]}}}
    assert stages[1] == {
        "$setWindowFields": {"sortBy": {"__wk1": -1}, "output": {"__w0": {"$rank": {}}}}
    }


def test_rank_over_a_path_reads_missing_as_null() -> None:
    # Before MongoDB 8.0, $rank ranks a missing value apart from null.
    stages = pipeline("SELECT DENSE_RANK() OVER (ORDER BY a) AS r FROM t")
    assert stages[0] == {"$set": {"__wk1": {"$ifNull": ["$a", None]}}}


def test_windows_with_the_same_spec_share_a_stage() -> None:
    stages = window_stages(
        "SELECT ROW_NUMBER() OVER (ORDER BY a) AS n, LAG(x) OVER (ORDER BY a) AS p, "
        "COUNT(*) OVER () AS c, SUM(x) OVER (PARTITION BY g) AS s FROM t"
    )
    assert len(stages) == 2
    assert set(stages[0]["output"]) == {"__w0", "__w1", "__w2"}
    assert stages[0]["output"]["__w1"] == {"$shift": {"output": "$x", "by": -1}}


def test_identical_windows_are_computed_once() -> None:
    stages = pipeline(
        "SELECT ROW_NUMBER() OVER (ORDER BY a) AS n FROM t ORDER BY ROW_NUMBER() OVER (ORDER BY a)"
    )
    assert stages[-2:] == [{"$project": {"_id": 0, "n": "$__w0"}}, {"$sort": {"n": 1}}]


def test_range_offsets_use_a_range_window_over_an_ascending_key() -> None:
    stages = pipeline(
        "SELECT SUM(x) OVER (ORDER BY d DESC RANGE BETWEEN 2 PRECEDING AND CURRENT ROW) AS s FROM t"
    )
    key = {"$ifNull": [{"$multiply": ["$d", -1]}, float("inf")]}
    assert stages[0] == {"$set": {"__wk1": key}}
    output = stages[1]["$setWindowFields"]["output"]
    assert stages[1]["$setWindowFields"]["sortBy"] == {"__wk1": 1}
    assert output["__w2"]["window"] == {"range": [-2, 0]}


def test_interval_offsets_are_milliseconds() -> None:
    stages = pipeline(
        "SELECT COUNT(*) OVER (ORDER BY at RANGE BETWEEN INTERVAL 1 DAY PRECEDING AND CURRENT ROW) "
        "AS n FROM t"
    )
    assert stages[0] == {"$set": {"__wk1": {"$ifNull": [{"$toLong": "$at"}, float("-inf")]}}}
    output = stages[1]["$setWindowFields"]["output"]
    assert output == {"__w0": {"$count": {}, "window": {"range": [-86_400_000, 0]}}}


def test_lag_with_a_default_keeps_null_values_null() -> None:
    (stage,) = window_stages("SELECT LAG(x, 2, 0) OVER (ORDER BY d) AS p FROM t")
    shift = {"output": {"$ifNull": ["$x", None]}, "by": -2, "default": 0}
    assert stage["output"] == {"__w0": {"$shift": shift}}


def test_frame_offsets_can_be_parameters() -> None:
    stages = pipeline(
        "SELECT MAX(x) OVER (ORDER BY d ROWS BETWEEN ? PRECEDING AND ? FOLLOWING) AS s FROM t",
        [2, 1],
    )
    assert stages[0]["$setWindowFields"]["output"]["__w0"]["window"] == {"documents": [-2, 1]}


def test_windows_after_group_by_read_the_group() -> None:
    stages = pipeline(
        "SELECT dept, RANK() OVER (ORDER BY COUNT(*) DESC) AS r FROM emp GROUP BY dept"
    )
    assert list(stages[0]) == ["$group"]
    assert stages[1] == {"$set": {"__wk1": {"$ifNull": ["$a0", None]}}}


# -- refused -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "code", "words"),
    [
        ("SELECT a FROM t WHERE ROW_NUMBER() OVER () > 1", "QL305", "select list"),
        ("SELECT SUM(SUM(x) OVER ()) OVER () FROM t", "QL305", "nested"),
        ("SELECT SUM(x) OVER (ORDER BY a, b RANGE 1 PRECEDING) FROM t", "QL304", "one ORDER BY"),
        ("SELECT SUM(x) OVER (RANGE 1 PRECEDING) FROM t", "QL304", "one ORDER BY"),
        (
            "SELECT SUM(x) OVER (ORDER BY a ROWS BETWEEN 1 FOLLOWING AND CURRENT ROW) FROM t",
            "QL304",
            "starts after",
        ),
        ("SELECT SUM(x) OVER (ORDER BY a ROWS 1.5 PRECEDING) FROM t", "QL304", "integer"),
        ("SELECT SUM(DISTINCT x) OVER () FROM t", "QL201", "DISTINCT"),
        ("SELECT GROUP_CONCAT(x) OVER () FROM t", "QL201", "window function"),
        (
            "SELECT SUM(x) OVER (ORDER BY d RANGE INTERVAL 1 MONTH PRECEDING) FROM t",
            "QL201",
            "MONTH",
        ),
        ("SELECT SUM(x) OVER (ORDER BY d ROWS INTERVAL 1 DAY PRECEDING) FROM t", "QL304", "RANGE"),
        ("SELECT SUM(x) OVER w FROM t", "QL304", "not defined"),
        ("SELECT SUM(x) OVER (w ORDER BY c) FROM t WINDOW w AS (ORDER BY a)", "QL304", "ORDER BY"),
        ("SELECT NTILE(0) OVER (ORDER BY a) FROM t", "QL304", "NTILE"),
        ("SELECT LAG(x, -1) OVER (ORDER BY a) FROM t", "QL304", "LAG"),
        ("SELECT LEAD(x, y) OVER (ORDER BY a) FROM t", "QL304", "LEAD"),
    ],
)
def test_refused(sql: str, code: str, words: str) -> None:
    with pytest.raises(queryleaf.QueryLeafError) as error:
        compile_statement(sql)
    assert error.value.code == code
    assert words in error.value.message


# -- results on data of their own ---------------------------------------------------------------


def test_interval_frames_over_dates(conn: queryleaf.Connection) -> None:
    day = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    hours = [0, 12, 24, 24, 60]
    conn.db.ev.insert_many(
        [{"_id": i, "at": day + dt.timedelta(hours=h), "v": i} for i, h in enumerate(hours)]
        + [{"_id": 9, "v": 100}]  # no date: a NULL, peer of the NULLs only
    )
    result = conn.run_sql(
        "SELECT _id, SUM(v) OVER (ORDER BY at RANGE BETWEEN INTERVAL 1 DAY PRECEDING AND CURRENT ROW)"
        " AS last_day, COUNT(*) OVER (ORDER BY at DESC RANGE BETWEEN CURRENT ROW AND "
        "INTERVAL 12 HOUR FOLLOWING) AS half_day_before FROM ev ORDER BY _id"
    )
    # last_day: rows within 24 hours before (and the peers of) each row.
    # half_day_before: descending, FOLLOWING is earlier: rows from 12 hours before up to the row.
    assert result.rows == [
        {"_id": 0, "last_day": 0, "half_day_before": 1},
        {"_id": 1, "last_day": 1, "half_day_before": 2},
        {"_id": 2, "last_day": 6, "half_day_before": 3},
        {"_id": 3, "last_day": 6, "half_day_before": 3},
        {"_id": 4, "last_day": 4, "half_day_before": 1},
        {"_id": 9, "last_day": 100, "half_day_before": 1},
    ]


def test_hidden_fields_do_not_leak(conn: queryleaf.Connection) -> None:
    conn.db.t.insert_many([{"_id": 1, "a": 1, "x": 2}, {"_id": 2, "a": 1, "x": 3}])
    sql = "SELECT _id, SUM(x) OVER (ORDER BY a) AS s, RANK() OVER (ORDER BY a + x) AS r FROM t"
    documents = list(conn.db.t.aggregate(compile_statement(sql).command["pipeline"]))
    assert sorted(documents, key=lambda d: d["_id"]) == [
        {"_id": 1, "s": 5, "r": 1},
        {"_id": 2, "s": 5, "r": 2},
    ]
