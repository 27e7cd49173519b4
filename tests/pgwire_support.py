"""A PostgreSQL-protocol server for the client tests: in-process, 127.0.0.1, port 0, over the
embedded engine (or a fresh database on QUERYLEAF_TEST_URI's server), stopped after use."""

from __future__ import annotations

import importlib
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import queryleaf
from queryleaf.pgwire.server import PgServer
from tests.conftest import TEST_URI

USERS_SQL = (
    "INSERT INTO users (name, age, active, address) VALUES "
    "('ada', 36, TRUE, JSON_OBJECT('city', 'London')), ('alan', 41, FALSE, NULL), "
    "('grace', 85, TRUE, JSON_OBJECT('city', 'Arlington'))"
)


@contextmanager
def pg_server(**options: Any) -> Iterator[PgServer]:
    name = f"queryleaf_pg_{uuid.uuid4().hex[:10]}" if TEST_URI else "queryleaf"
    base = queryleaf.connect(TEST_URI, database=name)
    server = PgServer(connect=lambda: base, port=0, **options).start()
    try:
        yield server
    finally:
        server.stop()
        if TEST_URI:
            base.client.drop_database(name)
        base.close()


def dsn(server: PgServer, user: str = "ql", **extra: Any) -> dict[str, Any]:
    return {"host": "127.0.0.1", "port": server.port, "user": user, "dbname": "queryleaf", **extra}


def client(module: str) -> Any:
    """A client library the dev extras install (pyproject.toml): a skip when it is missing
    locally, a failure under CI, where a missing reference must not pass silently."""
    try:
        return importlib.import_module(module)
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail(
                f"{module} is missing: pyproject.toml's dev extras install it", pytrace=False
            )
        pytest.skip(f"{module} is not installed (pip install -e '.[dev]')", allow_module_level=True)
