"""The embedded engine: mongomock-ng corrected to behave like MongoDB 6.0+.

`new_client()` returns an in-memory pymongo-compatible client. Where mongomock-ng's results differ
from the server's documented behaviour for what the planner emits, this package evaluates the
operator or stage itself (see `registry` and `hooks`); the patch is applied once, on import.
"""

from __future__ import annotations

from .client import new_client
from .hooks import install

install()

__all__ = ["install", "new_client"]
