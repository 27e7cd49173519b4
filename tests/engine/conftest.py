"""Fixtures for the embedded engine tests: every assertion is MongoDB's documented result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from queryleaf.engines.embedded import new_client


@pytest.fixture
def db() -> Any:
    return new_client()["enginetest"]


@pytest.fixture
def project(db: Any) -> Callable[..., dict]:
    """`project(expression, document)`: the `{r: ...}` document that `$project` outputs for one
    stored document, `{}` when the expression evaluates to missing."""

    def run(expression: Any, document: dict | None = None) -> dict:
        db.t.drop()
        db.t.insert_one({"_id": 1, **(document or {})})
        (row,) = db.t.aggregate([{"$project": {"_id": 0, "r": expression}}])
        return row

    return run


@pytest.fixture(autouse=True, params=["compiled-from-second", "compiled-always"])
def expression_evaluation(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every engine test runs twice: as the engine runs (an expression is interpreted the first
    time a pipeline evaluates it, compiled from the second) and with every expression compiled
    at once, so that the compiled evaluation is held to every assertion here too."""
    from queryleaf.engines.embedded import compiled

    if request.param == "compiled-always":
        monkeypatch.setattr(compiled, "COMPILE_AT", 1)
    return request.param
