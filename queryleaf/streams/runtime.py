"""The in-process subscription runtime: one thread per running subscription, each running a
SubscriptionRunner. `conn.runtime` is created on first use; START/RESUME EVENT_SUBSCRIPTION
start a subscription in it and STOP/PAUSE stop it."""

from __future__ import annotations

import threading
from typing import Any

from queryleaf.streams.event_columns import SUBSCRIPTIONS
from queryleaf.streams.runner import SubscriptionRunner

JOIN_SECONDS = 30.0  # how long stop() waits for an in-flight delivery to finish


class Runtime:
    """Runs subscriptions of one Connection in background threads."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self._lock = threading.Lock()
        self._running: dict[str, tuple[SubscriptionRunner, threading.Thread]] = {}

    def start(self, name: str) -> bool:
        """Start `name` (a stored, active subscription). False when it already runs here."""
        with self._lock:
            current = self._running.get(name)
            if current is not None and current[1].is_alive():
                return False
            document = self.conn.db[SUBSCRIPTIONS].find_one({"_id": name}, {"status": 1})
            if document is None:
                raise KeyError(f"event subscription {name} does not exist")
            if document.get("status") != "active":
                raise ValueError(f"event subscription {name} is {document.get('status')}")
            runner = SubscriptionRunner(self.conn, name)
            thread = threading.Thread(
                target=runner.run, name=f"queryleaf-subscription-{name}", daemon=True
            )
            self._running[name] = (runner, thread)
            thread.start()
            return True

    def start_all(self) -> list[str]:
        """Start every active subscription that is not running yet; the names started."""
        names = [
            document["_id"]
            for document in self.conn.db[SUBSCRIPTIONS].find({"status": "active"}, {"_id": 1})
        ]
        return [name for name in names if self.start(name)]

    def stop(self, name: str, timeout: float = JOIN_SECONDS) -> bool:
        """Stop `name` after its in-flight delivery; its resume token is persisted. False when
        it was not running here."""
        with self._lock:
            current = self._running.pop(name, None)
        if current is None:
            return False
        runner, thread = current
        runner.stop()
        thread.join(timeout)
        return True

    def stop_all(self, timeout: float = JOIN_SECONDS) -> None:
        with self._lock:
            running = list(self._running.items())
            self._running.clear()
        for _, (runner, _thread) in running:
            runner.stop()
        for _, (_runner, thread) in running:
            thread.join(timeout)

    def running(self) -> list[str]:
        with self._lock:
            return sorted(name for name, (_, t) in self._running.items() if t.is_alive())

    def is_running(self, name: str) -> bool:
        return name in self.running()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()
