"""A spinner with the elapsed time on stderr for statements that take more than a moment.

It appears only after `delay` seconds, so quick statements print nothing extra, and only
when stderr is a terminal. The statement runs in the calling thread (so Ctrl-C interrupts
it there); the spinner is rich's Status, started from a timer thread."""

from __future__ import annotations

import threading
import time
from typing import Any, TextIO

from rich.console import Console
from rich.status import Status
from rich.text import Text


class _Elapsed:
    """Re-rendered on each spinner frame, so the seconds count up."""

    def __init__(self, started: float, label: str = "running") -> None:
        self.started = started
        self.label = label

    def __rich__(self) -> Text:
        elapsed = time.perf_counter() - self.started
        return Text(f"{self.label}... {elapsed:.1f} s  (Ctrl-C cancels)")


class Spinner:
    def __init__(self, stream: TextIO, delay: float = 1.0, label: str = "running") -> None:
        self.stream = stream
        self.label = label
        self.delay = delay
        self.enabled = delay >= 0 and _isatty(stream)
        self._lock = threading.Lock()
        self._status: Status | None = None
        self._stopped = False
        self._timer: threading.Timer | None = None

    def __enter__(self) -> Spinner:
        if self.enabled:
            started = time.perf_counter()
            self._timer = threading.Timer(self.delay, self._show, args=(started,))
            self._timer.daemon = True
            self._timer.start()
        return self

    def _show(self, started: float) -> None:
        with self._lock:
            if self._stopped:
                return
            console = Console(file=self.stream, stderr=True)
            self._status = Status(_Elapsed(started, self.label), console=console, spinner="dots")
            self._status.start()

    def __exit__(self, *exc: Any) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            self._stopped = True
            if self._status is not None:
                self._status.stop()


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
