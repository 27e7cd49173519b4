"""Shared fixtures. Result tests run on the embedded engine, and on a real MongoDB replica
set when QUERYLEAF_TEST_URI is set (each test then gets its own database, dropped after)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

import queryleaf
from queryleaf.engines import redact_uri

TEST_URI = os.environ.get("QUERYLEAF_TEST_URI")


def pytest_report_header(config: pytest.Config) -> str:
    if TEST_URI:
        return f"queryleaf backend: MongoDB at {redact_uri(TEST_URI)}"
    return "queryleaf backend: embedded engine (set QUERYLEAF_TEST_URI for a real server)"


@pytest.fixture
def conn() -> Iterator[queryleaf.Connection]:
    if TEST_URI:
        name = f"queryleaf_test_{uuid.uuid4().hex[:12]}"
        connection = queryleaf.connect(TEST_URI, database=name)
        try:
            yield connection
        finally:
            connection.client.drop_database(name)
            connection.close()
    else:
        with queryleaf.connect() as connection:
            yield connection


requires_server = pytest.mark.skipif(
    not TEST_URI, reason="needs a real MongoDB: set QUERYLEAF_TEST_URI"
)
