"""Running a statement in steps (plan/scalar_steps.py): each uncorrelated subquery first,
then the outer statement planned with their values, under the same NOW()."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from queryleaf.plan import plan_statement
from queryleaf.plan.plans import Plan
from queryleaf.plan.scalar_rows import check_rows
from queryleaf.plan.scalar_steps import StepsPlan
from queryleaf.result import Result


def run_steps(plan: StepsPlan, db: Any, run: Callable[[Plan, Any], Result]) -> Result:
    values = dict(plan.params or {})
    for name, step in plan.steps:
        rows = run(step, db).rows
        check_rows(rows)  # several rows: QL502, as MySQL's 1242
        # A scalar subquery's value: its row's column, NULL without a row.
        values[name] = next(iter(rows[0].values()), None) if rows else None
    outer = plan_statement(plan.outer, values, text="", now=plan.now)
    result = run(outer, db)
    result.plan = plan
    return result
