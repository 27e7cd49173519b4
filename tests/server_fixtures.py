"""Servers for the server's own tests: in-process on a free port, stopped after the test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pymongo

from queryleaf.server.service import Service


@contextmanager
def running(data: Path | None, **options: object) -> Iterator[Service]:
    service = Service(data, port=0, **options)  # type: ignore[arg-type]
    service.start()
    try:
        yield service
    finally:
        service.stop()


def client(service: Service, **options: object) -> pymongo.MongoClient:
    return pymongo.MongoClient(
        "127.0.0.1",
        service.port,
        directConnection=True,
        serverSelectionTimeoutMS=5000,
        tz_aware=True,
        **options,
    )
