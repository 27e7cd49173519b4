"""The data directory: what was acknowledged is on disk.

Promise: `append()` followed by `wait()` returns only once the record is written and fsynced, so
a write acknowledged after `wait()` survives a crash (SIGKILL, power loss on an honest disk).

Layout of a data directory:
- `LOCK`: held (flock) by the one server using the directory; a second one exits with an error;
- `journal-NNNNNN.qlj`: records appended in order, each framed as length (4 bytes), CRC-32 of
  the payload (4 bytes) and the payload (a BSON document). Concurrent writers share fsyncs
  (group commit): whoever finds the file unsynced syncs everything written so far, and every
  writer whose record that covered returns;
- `snapshot-NNNNNN.qls`: the whole state as of the start of journal NNNNNN, in the same framing,
  written to a temporary name, fsynced and renamed; then older journals and snapshots go.

Recovery loads the newest complete snapshot and replays the journals from its number on. A
record cut short or failing its checksum at the end of a journal (a write torn by the crash,
never acknowledged) is cut off with a warning; everything before it is kept.
"""

from __future__ import annotations

import fcntl
import logging
import os
import struct
import threading
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import bson

from .wire import DECODE_OPTIONS, ENCODE_OPTIONS

log = logging.getLogger("queryleaf.server")

FRAME = struct.Struct("<II")  # payload length, CRC-32 of the payload
MAX_RECORD = 512 * 1024 * 1024


class DataDirectoryLocked(Exception):
    """Another server holds the data directory."""


def frame(document: dict[str, Any]) -> bytes:
    payload = bson.encode(document, codec_options=ENCODE_OPTIONS)
    return FRAME.pack(len(payload), zlib.crc32(payload)) + payload


def read_frames(path: Path, *, repair: bool) -> Iterator[dict[str, Any]]:
    """The records of a file, in order. A torn or corrupt tail ends the iteration; with
    `repair` the file is cut there (with a warning)."""
    with open(path, "rb") as handle:
        data = handle.read()
    offset = 0
    while offset < len(data):
        problem = None
        if len(data) - offset < FRAME.size:
            problem = "a record header cut short"
        else:
            length, checksum = FRAME.unpack_from(data, offset)
            start, end = offset + FRAME.size, offset + FRAME.size + length
            if length > MAX_RECORD or end > len(data):
                problem = "a record cut short"
            elif zlib.crc32(data[start:end]) != checksum:
                problem = "a record failing its checksum"
            else:
                try:
                    document = bson.decode(data[start:end], codec_options=DECODE_OPTIONS)
                except Exception:
                    problem = "a record that is not valid BSON"
        if problem is not None:
            if repair:
                log.warning(
                    "%s: %s at byte %d (a write torn by a crash, never acknowledged); "
                    "cutting %d bytes",
                    path.name,
                    problem,
                    offset,
                    len(data) - offset,
                )
                with open(path, "r+b") as handle:
                    handle.truncate(offset)
                    os.fsync(handle.fileno())
            return
        yield document
        offset = end


class DurableStore:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._lock_handle: Any = None
        self._fd = -1
        self._index = 0
        self._cond = threading.Condition()
        self._written = 0  # bytes appended since opening (all journals)
        self._synced = 0
        self._syncing = False
        self.journal_bytes = 0  # in the current journal file
        # A journal write or fsync that failed: the journal may end in a torn record that
        # recovery would cut (with everything after it), and an fsync error may have dropped
        # data; nothing more is acknowledged.
        self._failure: OSError | None = None

    # --- opening -------------------------------------------------------------------------------

    def lock(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)  # the owner's alone
        handle = open(self.directory / "LOCK", "a+")  # noqa: SIM115 - held while serving
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise DataDirectoryLocked(
                f"the data directory {self.directory} is in use by another queryleaf server"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._lock_handle = handle

    def _numbered(self, prefix: str, suffix: str) -> list[tuple[int, Path]]:
        found = []
        for path in self.directory.glob(f"{prefix}-*{suffix}"):
            number = path.name[len(prefix) + 1 : -len(suffix)]
            if number.isdigit():
                found.append((int(number), path))
        return sorted(found)

    def recover(self) -> tuple[Iterator[dict[str, Any]] | None, Iterator[dict[str, Any]]]:
        """(the newest complete snapshot's records or None, the journal records after it).
        Afterwards the store appends to a fresh journal."""
        for path in self.directory.glob("*.tmp"):
            path.unlink()  # a snapshot a crash interrupted
        snapshot_index, snapshot = 0, None
        for index, path in reversed(self._numbered("snapshot", ".qls")):
            records = list(read_frames(path, repair=False))
            if records and records[-1].get("t") == "end":
                snapshot_index, snapshot = index, records
                break
            log.warning("%s is incomplete: ignored", path.name)
        journals = [(i, p) for i, p in self._numbered("journal", ".qlj") if i >= snapshot_index]

        def journal_records() -> Iterator[dict[str, Any]]:
            for _, path in journals:
                yield from read_frames(path, repair=True)

        last = max([snapshot_index, *(i for i, _ in journals)])
        self._index = last  # the next journal is last + 1, opened by start()
        return (iter(snapshot) if snapshot is not None else None), journal_records()

    def start(self) -> None:
        """Open a new journal for appending (after recovery)."""
        self._open(self._index + 1)

    def _open(self, index: int) -> None:
        path = self.directory / f"journal-{index:06d}.qlj"
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._index = index
        self.journal_bytes = 0
        _fsync_directory(self.directory)

    @property
    def index(self) -> int:
        return self._index

    # --- appending -----------------------------------------------------------------------------

    def append(self, document: dict[str, Any]) -> int:
        """Write a record (the caller serialises appends); returns its ticket for wait()."""
        data = frame(document)
        with self._cond:
            self._check()
            view = memoryview(data)
            try:
                while view:
                    written = os.write(self._fd, view)
                    view = view[written:]
            except OSError as error:
                self._fail(error)
                raise
            self._written += len(data)
            self.journal_bytes += len(data)
            return self._written

    def appended(self) -> int:
        """The ticket of everything appended so far."""
        with self._cond:
            return self._written

    def wait(self, ticket: int) -> None:
        """Return once the record with this ticket is on disk (group commit)."""
        with self._cond:
            while self._synced < ticket:
                self._check()
                if self._syncing:
                    self._cond.wait()
                    continue
                self._syncing = True
                target, fd = self._written, self._fd
                self._cond.release()
                failure = None
                try:
                    os.fdatasync(fd)
                except OSError as error:
                    failure = error
                    raise
                finally:
                    self._cond.acquire()
                    if failure is not None:
                        self._fail(failure)
                    self._syncing = False
                    self._cond.notify_all()
                self._synced = max(self._synced, target)

    def _fail(self, error: OSError) -> None:
        """(with _cond held) Stop acknowledging: the journal can no longer be trusted."""
        if self._failure is None:
            self._failure = error
            log.error(
                "journal %d could not be written (%s): no further write is acknowledged; "
                "restart the server once the disk is fixed",
                self._index,
                error,
            )

    def _check(self) -> None:
        if self._failure is not None:
            raise OSError(
                self._failure.errno,
                f"the journal failed earlier ({self._failure}); restart the server",
            )

    def rotate(self) -> int:
        """Sync and close the current journal and open the next; returns the new number. Called
        with the engine lock held, at the moment a snapshot's state is taken."""
        with self._cond:
            while self._syncing:
                self._cond.wait()
            self._check()
            try:
                os.fdatasync(self._fd)
            except OSError as error:
                self._fail(error)
                raise
            self._synced = self._written
            os.close(self._fd)
            self._open(self._index + 1)
            self._cond.notify_all()
            return self._index

    # --- snapshots -----------------------------------------------------------------------------

    def write_snapshot(self, index: int, records: Iterable[bytes]) -> int:
        """Write the framed records as snapshot `index`, then drop what it supersedes."""
        final = self.directory / f"snapshot-{index:06d}.qls"
        temporary = final.with_suffix(".tmp")
        size = 0
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # as journals
        with os.fdopen(fd, "wb") as handle:
            for record in records:
                handle.write(record)
                size += len(record)
            handle.write(frame({"t": "end"}))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, final)
        _fsync_directory(self.directory)
        for number, path in self._numbered("snapshot", ".qls"):
            if number < index:
                path.unlink()
        for number, path in self._numbered("journal", ".qlj"):
            if number < index:
                path.unlink()
        return size

    def close(self) -> None:
        with self._cond:
            if self._fd >= 0:
                os.fdatasync(self._fd)
                os.close(self._fd)
                self._fd = -1
        if self._lock_handle is not None:
            self._lock_handle.close()
            self._lock_handle = None


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
