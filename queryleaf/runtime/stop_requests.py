"""A stop asked for by SIGINT/SIGTERM or by code, for the long-running commands (`queryleaf
serve`, `queryleaf worker`, the PostgreSQL front end alone).

The signal handler only records the signal. Python runs a handler in the main thread between
two bytecodes, possibly while that thread holds the lock inside `threading.Event.wait`, so a
handler that calls `Event.set()` can deadlock it. And the kernel may deliver the signal to any
thread: the main thread, asleep in a lock wait, then never runs the handler until it wakes.
So waiting polls: a stop is seen within POLL_SECONDS whichever thread took the signal."""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

POLL_SECONDS = 0.2


class StopRequest:
    def __init__(self) -> None:
        self.signal: int | None = None
        self._event = threading.Event()

    def install(self) -> None:
        """SIGINT and SIGTERM ask for the stop (call from the main thread)."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self.handle)

    def handle(self, signum: int, frame: Any = None) -> None:
        self.signal = signum  # an attribute store takes no lock

    def set(self) -> None:
        """Ask for the stop from code (any thread)."""
        self._event.set()

    def is_set(self) -> bool:
        return self.signal is not None or self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """True once a stop is asked, False when `timeout` seconds pass first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.is_set():
            pause = POLL_SECONDS
            if deadline is not None:
                pause = min(pause, deadline - time.monotonic())
                if pause <= 0:
                    return False
            self._event.wait(pause)
        return True
