"""The change-stream history of the served engine: visible once durable, persisted, restored.

`DurableJournal` is the embedded engine's journal (its emulated oplog) with one difference: a
change becomes visible to change streams only once the journal record holding it is on disk
(`make_visible`), so no stream ever hands out an event, or a resume token, that a crash could
take back. It also collects the changes each command publishes (`take_pending`) for the durable
store, and ignores publications while recovery replays logical commands (`replaying`).

`encode_change` / `decode_change` turn a journal `Change` into a BSON-ready document and back,
keeping its sequence number and cluster time, so resume tokens issued before a restart resume
after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bson import Timestamp

from queryleaf.engines.embedded.change_streams.events import Change
from queryleaf.engines.embedded.change_streams.journal import ClusterTime, Journal


class DurableJournal(Journal):
    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self._visible_seq = 0
        self._visible_time: ClusterTime = self._last_time
        self.pending: list[Change] = []
        self.replaying = False
        self.immediate = False  # no durable store: visible at once

    # --- writing -------------------------------------------------------------------------------

    def publish(self, changes: Iterable[Change], *, transaction: bool = False) -> None:
        if self.replaying:
            return  # recovery re-runs a logical command: its changes come from the record
        changes = list(changes)
        super().publish(changes, transaction=transaction)
        self.pending.extend(changes)
        if self.immediate and changes:
            self.make_visible(changes[-1].seq)

    def take_pending(self) -> list[Change]:
        pending, self.pending = self.pending, []
        return pending

    def make_visible(self, seq: int) -> None:
        with self._lock:
            if seq <= self._visible_seq:
                return
            seq = min(seq, self._last_seq)
            self._visible_seq = seq
            index = seq - self._first_seq
            if 0 <= index < len(self._changes):
                self._visible_time = self._changes[index].time
            else:
                self._visible_time = self._last_time
            self._cond.notify_all()

    # --- reading (capped at what is durable) ----------------------------------------------------

    def end(self) -> tuple[int, ClusterTime]:
        with self._lock:
            return self._visible_seq, self._visible_time

    def _readable_seq(self) -> int:
        return self._visible_seq  # changes become visible once they are durable

    # --- persistence ---------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "first_seq": self._first_seq,
                "last_seq": self._last_seq,
                "last_time": Timestamp(*self._last_time),
                "lost_seq": self._lost_seq,
                "lost_time": Timestamp(*self._lost_time),
            }

    def changes(self) -> list[Change]:
        with self._lock:
            return list(self._changes)

    def restore(self, state: dict[str, Any], changes: list[Change]) -> None:
        """Reset to a snapshot's history: its counters and its (contiguous) changes."""
        with self._lock:
            self._last_seq = int(state["last_seq"])
            self._last_time = _time(state["last_time"])
            self._lost_seq = int(state["lost_seq"])
            self._lost_time = _time(state["lost_time"])
            self._changes = list(changes)
            self._first_seq = self._last_seq - len(self._changes) + 1
            self._visible_seq, self._visible_time = self._last_seq, self._last_time

    def append_recovered(self, change: Change) -> None:
        """Add a change read back from the journal (its seq and time as first published)."""
        with self._lock:
            if change.seq <= self._last_seq:
                return  # already part of the snapshot
            if change.seq != self._last_seq + 1:
                # A gap: what lies between can no longer be resumed from.
                self._lost_seq, self._lost_time = change.seq - 1, self._last_time
                self._changes = []
            if not self._changes:
                self._first_seq = change.seq
            self._changes.append(change)
            self._last_seq = change.seq
            self._last_time = max(self._last_time, change.time)
            self._visible_seq, self._visible_time = self._last_seq, self._last_time
            if len(self._changes) > self.capacity:
                self._trim()

    def forget_before(self, seq: int) -> None:
        """Drop changes older than `seq` (the persisted history is capped by size)."""
        with self._lock:
            drop = seq - self._first_seq
            if drop <= 0:
                return
            drop = min(drop, len(self._changes))
            last_dropped = self._changes[drop - 1]
            self._lost_seq, self._lost_time = last_dropped.seq, last_dropped.time
            del self._changes[:drop]
            self._first_seq += drop


def _time(value: Any) -> ClusterTime:
    if isinstance(value, Timestamp):
        return (value.time, value.inc)
    return (int(value[0]), int(value[1]))


def encode_change(change: Change) -> dict[str, Any]:
    document: dict[str, Any] = {
        "s": change.seq,
        "t": Timestamp(*change.time),
        "w": change.wall,
        "op": change.op,
        "db": change.db,
    }
    if change.coll is not None:
        document["c"] = change.coll
    if change.key is not None:
        document["k"] = [change.key]
    if change.full is not None:
        document["f"] = change.full
    if change.before is not None:
        document["b"] = change.before
    update = change.update
    if update is not None:
        document["u"] = update
    if change.to is not None:
        document["to"] = list(change.to)
    if change.lsid is not None:
        document["ls"] = change.lsid
        document["tx"] = change.txn_number
    return document


def decode_change(document: dict[str, Any]) -> Change:
    key = document.get("k")
    to = document.get("to")
    change = Change(
        document["op"],
        document["db"],
        document.get("c"),
        key[0] if key else None,
        document.get("f"),
        document.get("b"),
        document.get("u"),
        (to[0], to[1]) if to else None,
    )
    change.seq = int(document["s"])
    change.time = _time(document["t"])
    change.wall = float(document["w"])
    if "ls" in document:
        change.lsid = document["ls"]
        change.txn_number = document.get("tx")
    return change
