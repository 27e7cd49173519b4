"""`queryleaf serve` keeps what it acknowledged: restarts, crashes, torn journals, the lock,
and the change-stream history (resume tokens across restarts, ChangeStreamHistoryLost)."""

from __future__ import annotations

import logging

import pytest
from pymongo.errors import OperationFailure

from queryleaf.server import command
from queryleaf.server.durable import DataDirectoryLocked, read_frames
from queryleaf.server.service import Service
from tests.server_fixtures import client, running


def crash(service: Service) -> None:
    """Stop like a killed process would: no final snapshot, nothing flushed beyond the
    acknowledged writes (the lock goes with the closed file)."""
    assert service.listener is not None and service.store is not None
    service.listener.stop()
    service._stop.set()
    service.store.close()


def test_data_indexes_views_and_options_survive_a_clean_restart(tmp_path) -> None:
    data = tmp_path / "data"
    with running(data) as service, client(service) as connection:
        db = connection.shop
        db.create_collection("orders", changeStreamPreAndPostImages={"enabled": True})
        db.orders.insert_many([{"_id": i, "total": i * 10} for i in range(50)])
        db.orders.create_index([("total", -1)], name="by_total", unique=True)
        db.create_collection("big", viewOn="orders", pipeline=[{"$match": {"total": {"$gt": 400}}}])
        db.orders.update_one({"_id": 1}, {"$set": {"total": 11}})
        db.orders.delete_one({"_id": 2})
    assert list(data.glob("snapshot-*.qls"))
    with running(data) as service, client(service) as connection:
        db = connection.shop
        assert db.orders.count_documents({}) == 49
        assert db.orders.find_one({"_id": 1}) == {"_id": 1, "total": 11}
        assert [d["_id"] for d in db.big.find().sort("_id", 1)] == [
            41,
            42,
            43,
            44,
            45,
            46,
            47,
            48,
            49,
        ]
        assert {i["name"] for i in db.orders.list_indexes()} == {"_id_", "by_total"}
        options = {c["name"]: c.get("options") for c in db.list_collections()}
        assert options["orders"] == {"changeStreamPreAndPostImages": {"enabled": True}}
        with pytest.raises(OperationFailure) as raised:
            db.orders.insert_one({"_id": 100, "total": 11})  # the unique index came back
        assert raised.value.code == 11000


def test_a_crash_replays_the_journal_and_tokens_still_resume(tmp_path) -> None:
    data = tmp_path / "data"
    service = Service(data, port=0)
    service.start()
    with client(service) as connection:
        coll = connection.db.c
        with coll.watch() as stream:
            coll.insert_one({"_id": 1})
            stream.next()
            token = stream.resume_token
        coll.insert_one({"_id": 2})
        connection.db.create_collection("made_by_ddl")
        connection.db.made_by_ddl.create_index("x")
    crash(service)
    assert not list(data.glob("snapshot-*.qls"))  # recovery has only the journal
    with running(data) as again, client(again) as connection:
        assert sorted(d["_id"] for d in connection.db.c.find()) == [1, 2]
        assert "made_by_ddl" in connection.db.list_collection_names()
        assert {i["name"] for i in connection.db.made_by_ddl.list_indexes()} == {"_id_", "x_1"}
        with connection.db.c.watch(resume_after=token) as resumed:
            event = resumed.next()
        assert event["documentKey"] == {"_id": 2}
        connection.db.c.insert_one({"_id": 3})
        with connection.db.c.watch(resume_after=event["_id"]) as resumed:
            assert resumed.next()["documentKey"] == {"_id": 3}


def test_a_torn_journal_tail_is_cut_with_a_warning(tmp_path, caplog) -> None:
    data = tmp_path / "data"
    service = Service(data, port=0)
    service.start()
    with client(service) as connection:
        connection.db.c.insert_many([{"_id": i} for i in range(10)])
    crash(service)
    (journal,) = sorted(data.glob("journal-*.qlj"))[-1:]
    size = journal.stat().st_size
    with open(journal, "ab") as handle:
        handle.write(b"\x50\x00\x00\x00\x01\x02\x03\x04partial record")
    with (
        caplog.at_level(logging.WARNING, "queryleaf.server"),
        running(data) as again,
        client(again) as connection,
    ):
        assert journal.stat().st_size == size  # cut back to the last whole record
        assert connection.db.c.count_documents({}) == 10
        connection.db.c.insert_one({"_id": 10})
    assert any("cutting" in record.getMessage() for record in caplog.records)
    with running(data) as again, client(again) as connection:
        assert connection.db.c.count_documents({}) == 11


def test_a_second_server_on_the_same_directory_is_refused(tmp_path, capsys) -> None:
    data = tmp_path / "data"
    with running(data):
        second = Service(data, port=0)
        with pytest.raises(DataDirectoryLocked, match="in use by another queryleaf server"):
            second.start()
        assert command.main(["--data", str(data), "--port", "0"]) == 1
    assert "in use by another queryleaf server" in capsys.readouterr().err


def test_concurrent_writers_share_fsyncs(tmp_path, monkeypatch) -> None:
    import os
    import threading
    import time

    from queryleaf.server.durable import DurableStore

    store = DurableStore(tmp_path / "data")
    store.lock()
    store.recover()
    store.start()
    syncs = []
    real = os.fdatasync

    def slow_sync(fd: int) -> None:
        syncs.append(fd)
        time.sleep(0.05)  # a slow disk: writers pile up behind one sync
        real(fd)

    monkeypatch.setattr(os, "fdatasync", slow_sync)
    barrier = threading.Barrier(16)

    def write(i: int) -> None:
        barrier.wait()
        store.wait(store.append({"i": i}))

    threads = [threading.Thread(target=write, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not any(thread.is_alive() for thread in threads)
    assert 1 <= len(syncs) <= 4  # 16 acknowledged writes, a few shared fsyncs
    store.close()
    records = [
        r["i"] for r in read_frames(next(iter((tmp_path / "data").glob("journal-*"))), repair=False)
    ]
    assert sorted(records) == list(range(16))


def test_snapshots_truncate_the_journal(tmp_path) -> None:
    data = tmp_path / "data"
    with running(data) as service, client(service) as connection:
        connection.db.c.insert_many([{"_id": i, "pad": "x" * 100} for i in range(200)])
        journals_before = sorted(data.glob("journal-*.qlj"))
        service.snapshot()
        connection.db.c.insert_one({"_id": "after"})
        journals_after = sorted(data.glob("journal-*.qlj"))
    assert journals_before[0] not in journals_after
    service = Service(data, port=0)
    service.start()
    with client(service) as connection:
        assert connection.db.c.count_documents({}) == 201
    crash(service)


def test_a_token_older_than_the_kept_history_is_history_lost(tmp_path) -> None:
    data = tmp_path / "data"
    with running(data, history_mb=0.02) as service, client(service) as connection:
        coll = connection.db.c
        with coll.watch() as stream:
            coll.insert_one({"_id": "first"})
            stream.next()
            old_token = stream.resume_token
        coll.insert_many([{"_id": i, "pad": "y" * 200} for i in range(400)])
        service.snapshot()  # keeps only the newest ~20 KB of history
        with pytest.raises(OperationFailure) as raised, coll.watch(resume_after=old_token) as s:
            s.try_next()
        assert raised.value.code == 286
    with running(data) as service, client(service) as connection:
        stale = connection.db.c
        with pytest.raises(OperationFailure) as raised, stale.watch(resume_after=old_token) as s:
            s.try_next()
        assert raised.value.code == 286


def test_the_data_stays_private_to_its_owner(tmp_path) -> None:
    data = tmp_path / "data"
    with running(data) as service, client(service) as connection:
        connection.db.c.insert_one({"_id": 1, "secret": "s"})
        service.snapshot()
        connection.db.c.insert_one({"_id": 2})
    files = [p for p in data.iterdir() if p.suffix in (".qls", ".qlj")]
    assert {p.suffix for p in files} == {".qls", ".qlj"}
    for path in files:
        assert path.stat().st_mode & 0o077 == 0, path.name
    assert data.stat().st_mode & 0o077 == 0


def test_a_failed_journal_write_stops_acknowledging(tmp_path, monkeypatch) -> None:
    """A record half-written (disk full) would hide every later record from recovery behind
    its torn frame: after it, nothing more is acknowledged, and recovery keeps what was."""
    import errno
    import os

    from queryleaf.server import durable
    from queryleaf.server.durable import DurableStore

    data = tmp_path / "data"
    store = DurableStore(data)
    store.lock()
    store.recover()
    store.start()
    store.wait(store.append({"i": 1}))
    real = os.write

    def disk_full(fd: int, chunk) -> int:
        real(fd, bytes(chunk[:5]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(durable.os, "write", disk_full)
    with pytest.raises(OSError):
        store.append({"i": 2})
    monkeypatch.setattr(durable.os, "write", real)
    with pytest.raises(OSError):  # the space came back, but the journal is not to be trusted
        store.wait(store.append({"i": 3}))
    store.close()
    again = DurableStore(data)
    again.lock()
    _snapshot, journal = again.recover()
    assert [r["i"] for r in journal] == [1]
    again.close()


def test_a_failed_fsync_stops_acknowledging(tmp_path, monkeypatch) -> None:
    import errno
    import os

    from queryleaf.server import durable
    from queryleaf.server.durable import DurableStore

    store = DurableStore(tmp_path / "data")
    store.lock()
    store.recover()
    store.start()
    real = os.fdatasync

    def broken(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(durable.os, "fdatasync", broken)
    with pytest.raises(OSError):
        store.wait(store.append({"i": 1}))
    monkeypatch.setattr(durable.os, "fdatasync", real)
    with pytest.raises(OSError):  # a retried fsync may "succeed" over lost pages
        store.wait(store.append({"i": 2}))
    store.close()
