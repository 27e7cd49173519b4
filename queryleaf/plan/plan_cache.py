"""The plan cache: statement text, dialect and parameter shape to a Template, or to
NOT_TEMPLATE when the statement's plan depends on its values (those are planned at every
execution), or to SEEN after a first execution (the template, which costs two more plannings,
is made when the shape comes back). Bounded, least recently used first out, safe to share
between threads."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

NOT_TEMPLATE = object()
SEEN = object()  # planned once: a shape seen only once (a one-off value) costs one plan


class PlanCache:
    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._entries: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: Any, entry: Any) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


PLANS = PlanCache()
