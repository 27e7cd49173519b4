"""What the shell shows while a live query (EMIT CHANGES) waits: a status line from the first
moment (`waiting for changes on orders · 0 events · Ctrl-C stops`) kept below the rows as
they arrive, and, on the embedded engine, a one-line note that only this process can write
into it."""

from __future__ import annotations

import importlib.util
import time
from typing import Any, TextIO

CLEAR_LINE = "\r\x1b[K"


def watched_text(result: Any) -> str:
    """`orders`, `orders, users` or `database shop`: what the live query watches."""
    stream = getattr(getattr(result, "plan", None), "stream", None)
    if stream is None:
        return "the database"
    if stream.collection is not None:
        return stream.collection
    if stream.watched:
        return ", ".join(stream.watched)
    return "the whole database"


def embedded_note() -> str:
    """The note for a live query on the embedded engine: true whether or not this build has
    `queryleaf serve` (the MongoDB-protocol server) yet."""
    where = (
        "run `queryleaf serve` and connect every process to it with --uri"
        if importlib.util.find_spec("queryleaf.server") is not None
        else "connect every process to one MongoDB replica set with --uri"
    )
    return (
        "note: the embedded engine lives inside this shell, so only statements run here "
        f"change it; to watch writes from other processes, {where}"
    )


class LiveStatus:
    """The status line on `err`: drawn at once, cleared before each row is printed on the
    terminal and drawn again after it, erased at the end. A stream that is not a terminal
    gets the same text on lines of its own."""

    def __init__(self, err: TextIO, watching: str, terminal: bool) -> None:
        self.err = err
        self.watching = watching
        self.terminal = terminal
        self.count = 0
        self.started = time.perf_counter()

    def text(self) -> str:
        events = "1 event" if self.count == 1 else f"{self.count} events"
        parts = [f"waiting for changes on {self.watching}", events]
        if self.count:
            elapsed = max(time.perf_counter() - self.started, 1e-9)
            parts.append(f"{self.count / elapsed:.1f}/s")
        parts.append("Ctrl-C stops")
        return " · ".join(parts)

    def show(self) -> None:
        if self.terminal:
            self.err.write(CLEAR_LINE + self.text())
        else:
            self.err.write(self.text() + "\n")
        self.err.flush()

    def before_row(self) -> None:
        """Called before a row is written to the screen: the row takes the status's place."""
        if self.terminal:
            self.err.write(CLEAR_LINE)
            self.err.flush()

    def after_row(self, count: int) -> None:
        self.count = count
        if self.terminal:
            self.show()

    def end(self) -> None:
        """The status line's last state: `live query on orders ended: 2 events in 1.3 s`."""
        if self.terminal:
            self.err.write(CLEAR_LINE)
        events = "1 event" if self.count == 1 else f"{self.count} events"
        elapsed = time.perf_counter() - self.started
        self.err.write(f"live query on {self.watching} ended: {events} in {elapsed:.1f} s\n")
        self.err.flush()
