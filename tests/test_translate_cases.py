"""Translation fixtures (tests/cases/translate/*.case): SQL in, expected command out."""

from __future__ import annotations

import pytest

from queryleaf.compile import compile_statement
from tests.case_files import Case, case_id, load_cases

CASES = load_cases("translate")


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_translation(case: Case) -> None:
    plan = compile_statement(case["sql"], params=case.get("params"))
    assert plan.command == case["plan"], plan.to_json()
