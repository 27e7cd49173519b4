"""LISTEN on a subscription's name (filled in below)."""

from __future__ import annotations

from typing import Any


class ListenHub:
    def __init__(self, shared: Any) -> None:
        self.shared = shared

    def listen(self, session: Any, channel: str, conn: Any) -> None:
        raise NotImplementedError

    def unlisten(self, session: Any, channel: str) -> None:
        return None

    def close(self) -> None:
        return None
