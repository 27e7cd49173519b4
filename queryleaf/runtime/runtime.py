"""The in-process subscription runtime: one thread per running subscription, each running a
SubscriptionRunner. `conn.runtime` is created on first use; START/RESUME EVENT_SUBSCRIPTION
start a subscription in it and STOP/PAUSE stop it.

With `leases=True` (what `queryleaf worker` uses) a subscription runs only while this runtime
holds its lease (queryleaf.runtime.leases): a background thread renews the leases of the
running subscriptions, stops a runner whose lease was taken by another owner, and keeps trying
to take the leases of the wanted subscriptions that do not run here (so it takes over a
subscription whose owner died once that lease expires)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from queryleaf.runtime.leases import LEASE_SECONDS, RENEW_SECONDS, Leases
from queryleaf.runtime.runner import SubscriptionRunner
from queryleaf.runtime.shared_streams import StreamHub
from queryleaf.subscriptions.event_columns import SUBSCRIPTIONS

JOIN_SECONDS = 30.0  # how long stop() waits for an in-flight delivery to finish
READY_SECONDS = 10.0  # how long start() waits for a new runner's stream to open

# listener(name, what): what is "started", "stopped" or "lease lost"
Listener = Callable[[str, str], None]


class Runtime:
    """Runs subscriptions of one Connection in background threads."""

    def __init__(
        self,
        conn: Any,
        *,
        leases: bool = False,
        lease_seconds: float = LEASE_SECONDS,
        renew_seconds: float = RENEW_SECONDS,
        owner: str | None = None,
        listener: Listener | None = None,
        share_streams: bool = True,
    ) -> None:
        self.conn = conn
        # Subscriptions on the database read shared change streams (see shared_streams).
        self.streams = StreamHub(conn.db) if share_streams else None
        self._lock = threading.Lock()
        self._running: dict[str, tuple[SubscriptionRunner, threading.Thread]] = {}
        self._stopping: dict[str, threading.Thread] = {}  # stopped, still delivering
        self.listener = listener
        self.leases = Leases(conn.db, owner, lease_seconds) if leases else None
        self.renew_seconds = renew_seconds
        self._wanted: set[str] = set()  # with leases: subscriptions to (re)take when free
        self._closing = threading.Event()
        self._watcher: threading.Thread | None = None

    @property
    def owner(self) -> str | None:
        return self.leases.owner if self.leases is not None else None

    def start(self, name: str) -> bool:
        """Start `name` (a stored, active subscription). False when it already runs here, or
        (with leases) when another owner holds its lease: it is then taken over when free."""
        with self._lock:
            current = self._running.get(name)
            if current is not None and current[1].is_alive():
                return False
            stopping = self._stopping.get(name)
            if stopping is not None and stopping.is_alive():
                return False  # a stopped runner is still finishing a delivery: one at a time
            document = self.conn.db[SUBSCRIPTIONS].find_one({"_id": name}, {"status": 1})
            if document is None:
                raise KeyError(f"event subscription {name} does not exist")
            if document.get("status") != "active":
                raise ValueError(f"event subscription {name} is {document.get('status')}")
            if self.leases is not None:
                self._wanted.add(name)
                self._ensure_watcher()
                if not self.leases.acquire(name):
                    return False
                # The fence: a previous owner's commits stop matching from here on.
                self.leases.stamp(name)
            runner = SubscriptionRunner(self.conn, name, self.streams, self.leases)
            thread = threading.Thread(
                target=runner.run, name=f"queryleaf-subscription-{name}", daemon=True
            )
            self._running[name] = (runner, thread)
            thread.start()
        # Return once its stream is open: what is written after START is delivered.
        runner.ready.wait(READY_SECONDS)
        self._notify(name, "started")
        return True

    def start_all(self) -> list[str]:
        """Start every active subscription that is not running yet; the names started."""
        names = [
            document["_id"]
            for document in self.conn.db[SUBSCRIPTIONS].find({"status": "active"}, {"_id": 1})
        ]
        return [name for name in names if self.start(name)]

    def stop(self, name: str, timeout: float = JOIN_SECONDS) -> bool:
        """Stop `name` after its in-flight delivery; its resume token is persisted and its
        lease released. False when it was not running here."""
        with self._lock:
            self._wanted.discard(name)
            current = self._running.pop(name, None)
        if current is None:
            return False
        runner, thread = current
        runner.stop()
        thread.join(timeout)
        if thread.is_alive():
            with self._lock:
                self._stopping[name] = thread
        # A delivery still running past the timeout keeps the lease (it expires instead), so
        # no other owner delivers while this one may still be delivering.
        self._finished(name, release=not thread.is_alive())
        return True

    def stop_all(self, timeout: float = JOIN_SECONDS, *, release: bool = True) -> None:
        """Stop everything. `release=False` keeps the leases (as a crashed process would: they
        expire and another owner takes over)."""
        deadline = time.monotonic() + timeout  # one budget for everything below

        def left() -> float:
            return max(0.0, deadline - time.monotonic())

        self._closing.set()
        if self._watcher is not None:
            self._watcher.join(left())
            self._watcher = None
        with self._lock:
            running = list(self._running.items())
            self._running.clear()
            self._wanted.clear()
        for _, (runner, _thread) in running:
            runner.stop()
        for _, (_runner, thread) in running:
            thread.join(left())
        for name, (_runner, thread) in running:
            self._finished(name, release and not thread.is_alive())
        if self.streams is not None:
            self.streams.close(left())
        self._closing.clear()

    def running(self) -> list[str]:
        with self._lock:
            return sorted(name for name, (_, t) in self._running.items() if t.is_alive())

    def is_running(self, name: str) -> bool:
        return name in self.running()

    def wanted(self) -> list[str]:
        with self._lock:
            return sorted(self._wanted)

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()

    # --- leases -----------------------------------------------------------------------------

    def _ensure_watcher(self) -> None:
        if self._watcher is None or not self._watcher.is_alive():
            self._watcher = threading.Thread(
                target=self._watch, name="queryleaf-leases", daemon=True
            )
            self._watcher.start()

    def _watch(self) -> None:
        while not self._closing.wait(self.renew_seconds):
            try:
                self.tick()
            except Exception:  # a database hiccup: try again on the next tick
                continue

    def tick(self) -> None:
        """One round of the lease thread: renew, reap ended runners, take over free leases."""
        assert self.leases is not None
        with self._lock:
            running = list(self._running.items())
        for name, (runner, thread) in running:
            if not thread.is_alive():  # ended on its own (no longer active): let it go
                with self._lock:
                    if self._running.get(name) == (runner, thread):
                        del self._running[name]
                    self._wanted.discard(name)
                self._finished(name)
            elif not runner.stop_event.is_set() and not self.leases.renew(name):
                runner.stop()  # another owner took it: stop delivering here
                with self._lock:
                    if self._running.get(name) == (runner, thread):
                        del self._running[name]
                self._notify(name, "lease lost")
        for name in self.wanted():
            if self._closing.is_set():
                return
            if name in self.running():
                continue
            try:
                self.start(name)
            except (KeyError, ValueError):  # dropped, stopped or paused meanwhile
                with self._lock:
                    self._wanted.discard(name)

    def _finished(self, name: str, release: bool = True) -> None:
        if self.leases is not None and release:
            self.leases.release(name)
        self._notify(name, "stopped")

    def _notify(self, name: str, what: str) -> None:
        if self.listener is not None:
            self.listener(name, what)
