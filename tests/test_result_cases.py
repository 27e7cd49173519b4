"""Result cases: dataset + SQL + expected rows (tests/cases/results/*.case). They run on the
embedded engine, and on a real server when QUERYLEAF_TEST_URI is set."""

from __future__ import annotations

import pytest

from tests.case_files import Case, case_id, load_cases, load_datasets
from tests.rows_compare import same_rows

CASES = load_cases("results")
DATASETS = load_datasets()


def load(conn, names: str) -> None:
    for name in names.split():
        for collection, documents in DATASETS[name].items():
            conn.db[collection].insert_many([dict(d) for d in documents])


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_result_case(conn, case: Case) -> None:
    if case.get("setup"):
        load(conn, case["setup"])
    result = conn.run_sql(case["sql"], case.get("params"))
    expected = case["rows"]
    assert same_rows(result.rows, expected, bool(case.get("ordered"))), (
        f"\nSQL: {case['sql']}\nplan: {result.plan.to_json() if result.plan else None}"
        f"\ngot: {result.rows}\nexpected: {expected}"
    )
    if expected:
        assert result.columns == list(expected[0]), result.columns
