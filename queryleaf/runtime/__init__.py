"""Running subscriptions: the runner of each subscription, shared change streams, delivery
targets with retries and dead letters, the event log, leases, replay, live-query streams and
the `queryleaf worker` service with its metrics.

`Runtime` (what `conn.runtime` is) and `Worker` are importable from here."""

from __future__ import annotations

from typing import Any

__all__ = ["Runtime", "Worker"]


def __getattr__(name: str) -> Any:
    # Imported on first use: a live query needs none of the subscription machinery.
    if name == "Runtime":
        from queryleaf.runtime.runtime import Runtime

        return Runtime
    if name == "Worker":
        from queryleaf.runtime.worker import Worker

        return Worker
    raise AttributeError(name)
