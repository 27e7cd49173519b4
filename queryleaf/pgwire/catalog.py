"""Catalog stub."""

from __future__ import annotations

from typing import Any


class Catalog:
    def __init__(self, db: Any) -> None:
        self.db = db

    def handles(self, sql: str) -> bool:
        return False
