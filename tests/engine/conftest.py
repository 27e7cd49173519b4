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
