"""Change streams for the embedded engine: `watch()` on a mongomock-ng client, database or
collection behaves like pymongo 4's against a MongoDB 6.0+ replica set.

Every write is recorded in a per-client journal (capture), from which each stream builds its
events (events, diff, tokens), filtered by its scope and the user's stages (pipeline, cursor).

Importing this package installs it (`new_client()` imports it), after the engine's other
corrections, since importing a subpackage runs the parent package's `install()` first.
"""

from __future__ import annotations

from .cursor import ChangeStream
from .install import configure_journal, install

__all__ = ["ChangeStream", "configure_journal", "install"]

install()
