"""Window functions (OVER) to `$setWindowFields`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from queryleaf.errors import UnsupportedError
from queryleaf.plan.expressions import ExprCompiler


@dataclass
class WindowPlan:
    """Stages that compute every window of a select list, and where each result lands."""

    stages: list[dict[str, Any]] = field(default_factory=list)
    fields: dict[int, str] = field(default_factory=dict)  # id(Window node) -> output field


def plan_windows(windows: list[exp.Window], compiler: ExprCompiler) -> WindowPlan:
    """`compiler` translates the PARTITION BY / ORDER BY / argument expressions in the
    scope the windows run in (before or after GROUP BY)."""
    raise UnsupportedError(
        "window functions (OVER) are not supported yet", node=windows[0], code="QL201"
    )
