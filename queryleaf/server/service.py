"""A running server: data directory, engine, listener, and the background work (snapshots,
idle cursors). Used by `queryleaf serve` and by tests that need a server in-process."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from .auth import Users
from .durable import DurableStore
from .engine import Engine
from .listener import Listener

log = logging.getLogger("queryleaf.server")


class Service:
    def __init__(
        self,
        data: Path | None,
        *,
        host: str = "127.0.0.1",
        port: int = 27018,
        auth: bool = False,
        advertise: str | None = None,
        history_mb: float = 256,
        snapshot_mb: float = 64,
    ) -> None:
        self.data = None if data is None else Path(data)
        self.host, self.port = host, port
        self.advertise = advertise
        self.auth = auth
        self.history_bytes = int(history_mb * 1024 * 1024)
        self.snapshot_bytes = int(snapshot_mb * 1024 * 1024)
        self.store: DurableStore | None = None
        self.engine: Engine | None = None
        self.listener: Listener | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._snapshot_lock = threading.Lock()

    def start(self) -> None:
        users = None
        if self.data is not None:
            self.store = DurableStore(self.data)
            self.store.lock()
        if self.auth:
            if self.data is None:
                raise ValueError("--auth needs a data directory holding the users")
            users = Users(self.data / "users.json")
            if not len(users):
                raise ValueError(
                    f"--auth: no users in {self.data}; add one with "
                    "`queryleaf serve --data DIR --add-user NAME`"
                )
        self.engine = Engine(self.store, history_bytes=self.history_bytes, auth=users)
        if self.store is not None:
            began = time.monotonic()
            snapshot, journal = self.store.recover()
            if snapshot is not None:
                self.engine.load_snapshot(snapshot)
            replayed = 0
            for record in journal:
                self.engine.apply(record)
                replayed += 1
            self.store.start()
            log.info(
                "recovered %s in %.2fs (%d journal records replayed)",
                self.data,
                time.monotonic() - began,
                replayed,
            )
        self.listener = Listener(self.engine, self.host, self.port)
        self.port = self.listener.port
        shown = self.advertise or (self.host if self.host not in ("0.0.0.0", "::") else "localhost")
        self.engine.address = f"{shown}:{self.port}"
        self.listener.start()
        self._spawn(self._maintain, "ql-maintenance")

    @property
    def uri(self) -> str:
        """How a front end in this process reaches the engine: through the MongoDB listener,
        so its writes take the same lock and journal as everyone's."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "", "localhost") else self.host
        if ":" in host:
            host = "[::1]" if host == "::" else f"[{host}]"
        return f"mongodb://{host}:{self.port}/?directConnection=true"

    def _spawn(self, target: Any, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _maintain(self) -> None:
        last_reap = time.monotonic()
        while not self._stop.wait(1.0):
            store = self.store
            if store is not None and store.journal_bytes > self.snapshot_bytes:
                try:
                    self.snapshot()
                except Exception:
                    log.exception("snapshot failed")
            if time.monotonic() - last_reap > 30 and self.engine is not None:
                last_reap = time.monotonic()
                self.engine.cursors.reap()

    def snapshot(self) -> None:
        """Write the whole state and let older journals go."""
        store, engine = self.store, self.engine
        if store is None or engine is None:
            return
        with self._snapshot_lock:
            began = time.monotonic()
            with engine.lock:
                records = engine.snapshot()
                index = store.rotate()
            size = store.write_snapshot(index, records)
            log.info(
                "snapshot %d written (%.1f MB in %.2fs)",
                index,
                size / 1e6,
                time.monotonic() - began,
            )

    def stop(self) -> None:
        self._stop.set()
        if self.listener is not None:
            self.listener.stop()
        if self.engine is not None:
            self.engine.close()
        if self.store is not None:
            try:
                self.snapshot()
            finally:
                self.store.close()
