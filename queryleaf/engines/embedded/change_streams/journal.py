"""The journal: one server's ordered, bounded log of changes (the emulated oplog).

Writers publish under a lock and notify a condition variable; streams read slices after their
position and wait on the condition, so a watcher in one thread sees writes from any other without
polling. Sequence numbers are contiguous, which makes "the changes after N" a list slice. Only
the newest `capacity` changes are kept (give or take a trimming slack); a stream that needs an
older one fails with ChangeStreamHistoryLost, as on a server whose oplog has rolled over.

With `record_unwatched` off, writes made while no stream is open are not recorded at all (the
cheapest setting); each such write counts as history lost, so resuming from before it fails
with ChangeStreamHistoryLost instead of silently missing it.

With `record_bookkeeping` off (it is on by default), writes to queryleaf's own bookkeeping
collections (the event log, subscriptions, dead letters, leases, active streams) are recorded in
full only while an open stream could see them: a stream on that collection, or a database
stream whose `$match` does not leave it out (the runtime's streams leave them out). Otherwise
the journal keeps a placeholder (`skip_unseen`): no document, no wake-up; a stream that resumes
from before it and could see that collection fails with ChangeStreamHistoryLost instead of
missing it. That is cheaper, but a subscription that watches those collections and is paused,
restarted or joined to a shared stream would resume across placeholders and fail, where MongoDB
replays: so it is only for a process that knows nobody watches them (benchmarks).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterable
from typing import Any

from mongomock_ng import OperationFailure

from .events import Change

DEFAULT_CAPACITY = 100_000
SKIPPED = "queryleaf.skipped"  # a placeholder for an unrecorded write (skip_unseen)

# Cluster times are (seconds, increment) pairs here, compared as tuples; events carry Timestamps.
ClusterTime = tuple[int, int]


def history_lost() -> OperationFailure:
    return OperationFailure(
        "Resume of change stream was not possible, as the resume point may no longer be in the "
        "oplog.",
        code=286,  # ChangeStreamHistoryLost
    )


class Journal:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        # Writers and readers take the plain lock; only waiting goes through the condition.
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._changes: list[Change] = []
        self._first_seq = 1  # the sequence number of _changes[0]
        self._last_seq = 0
        # Before any change, the cluster time is the journal's creation (for high-water marks).
        self._last_time: ClusterTime = (int(time.time()), 0)
        self._lost_seq = 0  # the newest change trimmed away
        self._lost_time: ClusterTime = (0, 0)
        self._waiting = 0  # streams blocked in wait(): no one to notify is the common case
        self._watchers: weakref.WeakSet[Any] = weakref.WeakSet()  # open streams
        self.capacity = max(1, capacity)
        self.record_unwatched = True
        self.record_bookkeeping = True

    # --- writing -------------------------------------------------------------------------------

    def publish(self, changes: Iterable[Change], *, transaction: bool = False) -> None:
        """Append changes; those of one transaction share a cluster time, as MongoDB's do."""
        with self._lock:
            now = time.time()  # wallTime: converted to a datetime only when an event is built
            shared = self._tick(int(now)) if transaction else None
            for change in changes:
                change.time = shared if shared is not None else self._tick(int(now))
                change.wall = now
                self._last_seq += 1
                change.seq = self._last_seq
                self._changes.append(change)
            if len(self._changes) > self.capacity:
                self._trim()
            if self._waiting:
                self._cond.notify_all()

    def recording(self) -> bool:
        """Whether to record a write now; if not, the write is counted as lost history."""
        if self.record_unwatched or self._watchers:
            return True
        with self._lock:
            self._last_seq += 1  # the unrecorded write's position, never to be resumed from
            self._lost_seq, self._lost_time = self._last_seq, self._tick(int(time.time()))
            self._changes.clear()
            self._first_seq = self._last_seq + 1
        return False

    def attach(self, stream: Any) -> None:
        with self._lock:
            self._watchers.add(stream)

    def detach(self, stream: Any) -> None:
        with self._lock:
            self._watchers.discard(stream)

    def skip_unseen(self, db: str, coll: str) -> bool:
        """Record a placeholder instead of a write to `db.coll` when no open stream could
        see it (True); False when one could (the write is recorded in full)."""
        probe = Change(SKIPPED, db, coll)
        with self._lock:
            if any(stream.could_see(probe) for stream in list(self._watchers)):
                return False
            self._last_seq += 1
            probe.seq = self._last_seq
            probe.time = self._tick(int(time.time()))
            probe.wall = time.time()
            self._changes.append(probe)
            if len(self._changes) > self.capacity:
                self._trim()
        return True

    def _tick(self, seconds: int) -> ClusterTime:
        """The next cluster time: wall-clock seconds, with an increment that orders the changes
        of one second (like the oplog's timestamps)."""
        last = self._last_time
        self._last_time = (seconds, 1) if seconds > last[0] else (last[0], last[1] + 1)
        return self._last_time

    def _trim(self) -> None:
        # Trimming in chunks keeps the list's front deletions amortised O(1) per change.
        excess = len(self._changes) - self.capacity
        if excess > max(1, self.capacity // 8):
            dropped = self._changes[excess - 1]
            self._lost_seq, self._lost_time = dropped.seq, dropped.time
            del self._changes[:excess]
            self._first_seq = self._last_seq - len(self._changes) + 1

    def resize(self, capacity: int) -> None:
        with self._lock:
            self.capacity = max(1, capacity)
            self._trim()

    # --- reading -------------------------------------------------------------------------------

    def end(self) -> tuple[int, ClusterTime]:
        """(sequence number, cluster time) of the newest change."""
        with self._lock:
            return self._last_seq, self._last_time

    def read(self, after: int, limit: int) -> list[Change]:
        """Up to `limit` readable changes following sequence number `after`."""
        with self._lock:
            if after < self._lost_seq:
                raise history_lost()
            start = max(0, after + 1 - self._first_seq)
            stop = min(start + limit, self._readable_seq() + 1 - self._first_seq)
            return self._changes[start:stop] if stop > start else []

    def _readable_seq(self) -> int:
        """The newest change a reader may see (a durable journal holds back undurable ones)."""
        return self._last_seq

    def wait(self, after: int, timeout: float | None, stop: threading.Event) -> bool:
        """Block until a change follows `after` (True), `timeout` seconds pass or `stop` is
        set (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._readable_seq() <= after:
                if stop.is_set():
                    return False
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._waiting += 1
                try:
                    self._cond.wait(remaining)
                finally:
                    self._waiting -= 1
            return True

    def wake(self) -> None:
        """Wake every waiter (a stream was closed from another thread)."""
        with self._lock:
            self._cond.notify_all()

    def change(self, seq: int) -> Change | None:
        with self._lock:
            if self._first_seq <= seq <= self._last_seq:
                return self._changes[seq - self._first_seq]
            return None

    def check_resumable(self, seq: int) -> None:
        """Raise ChangeStreamHistoryLost if changes after `seq` were trimmed away."""
        with self._lock:
            if seq < self._lost_seq:
                raise history_lost()

    def seq_before(self, when: ClusterTime) -> tuple[int, ClusterTime]:
        """The position from which a stream starting at operation time `when` reads: the last
        change older than `when` (sequence number, cluster time)."""
        with self._lock:
            if self._lost_seq and when <= self._lost_time:
                raise history_lost()
            changes = self._changes
            low, high = 0, max(0, min(len(changes), self._readable_seq() + 1 - self._first_seq))
            while low < high:  # first readable change at or after `when`
                middle = (low + high) // 2
                if changes[middle].time < when:
                    low = middle + 1
                else:
                    high = middle
            if low:
                return changes[low - 1].seq, changes[low - 1].time
            return self._first_seq - 1, self._lost_time
