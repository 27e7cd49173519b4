"""The kill test: writer processes make acknowledged inserts and updates while the server is
killed with SIGKILL at random moments, 20 times. Every acknowledged write is there after the
restarts, nothing is applied twice, a resume token taken before each kill resumes, and one
pymongo change stream left open across all the kills (resuming by itself) sees every
acknowledged insert exactly once."""

from __future__ import annotations

import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pymongo
import pytest

KILLS = 20
WRITERS = 3
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(data: Path, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "queryleaf.server",
            "--data",
            str(data),
            "--port",
            str(port),
            "--quiet",
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode}") from None
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the server did not start")


class Follower(threading.Thread):
    """One change stream on the inserts, open from start to end: pymongo resumes it after
    every kill from its last token."""

    def __init__(self, uri: str) -> None:
        super().__init__(daemon=True)
        self.uri = uri
        self.seen: list[str] = []
        self.reopened = 0
        self.errors: list[BaseException] = []
        self.stop = threading.Event()
        self.ready = threading.Event()

    def run(self) -> None:
        from pymongo.errors import ConnectionFailure

        token = None
        try:
            with pymongo.MongoClient(self.uri, serverSelectionTimeoutMS=30_000) as client:
                while not self.stop.is_set():
                    stream = None
                    try:
                        stream = client.kill.docs.watch(
                            [{"$match": {"operationType": "insert"}}],
                            max_await_time_ms=200,
                            resume_after=token,
                        )
                        self.ready.set()
                        while not self.stop.is_set():
                            event = stream.try_next()
                            if event is not None:
                                self.seen.append(event["documentKey"]["_id"])
                            token = stream.resume_token
                    except ConnectionFailure:
                        # pymongo resumes once by itself; a server killed again during that
                        # resume is reopened here from the last token, as the runtime does.
                        self.reopened += 1
                        time.sleep(0.1)
                    finally:
                        if stream is not None:
                            stream.close()
        except BaseException as error:
            self.errors.append(error)
        finally:
            self.ready.set()

    def start(self) -> None:
        super().start()
        assert self.ready.wait(30)

    def wait_for(self, wanted: set[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not wanted <= set(self.seen) and time.monotonic() < deadline and self.is_alive():
            time.sleep(0.1)
        missing = wanted - set(self.seen)
        assert not missing, (
            f"the open stream missed {len(missing)} acknowledged inserts; errors: {self.errors}"
        )


@pytest.mark.timeout(300)
def test_sigkill_loses_no_acknowledged_write_and_tokens_resume(tmp_path) -> None:
    rng = random.Random(14)
    data, port = tmp_path / "data", free_port()
    uri = f"mongodb://127.0.0.1:{port}/?directConnection=true"
    server = start(data, port)
    follower = Follower(uri)
    follower.start()
    outputs = [tmp_path / f"w{i}.out" for i in range(WRITERS)]
    stop = tmp_path / "stop"
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.server_writer", uri, f"w{i}", str(stop)],
            stdout=open(out, "w"),  # noqa: SIM115 - closed with the process
        )
        for i, out in enumerate(outputs)
    ]
    resumed = 0
    try:
        with pymongo.MongoClient(uri, serverSelectionTimeoutMS=10_000) as watcher:
            docs = watcher.kill.docs
            with docs.watch(max_await_time_ms=200) as stream:
                stream.try_next()
                token = stream.resume_token
            for _ in range(KILLS):
                time.sleep(rng.uniform(0.02, 0.3))
                with docs.watch(resume_after=token, max_await_time_ms=300) as stream:
                    event = stream.try_next()
                    if event is not None:
                        assert event["_id"]["_data"] > token["_data"]
                    token = stream.resume_token
                server.kill()
                server.wait()
                server = start(data, port)
                # A token from before the kill resumes, and in order.
                with docs.watch(resume_after=token, max_await_time_ms=500) as stream:
                    event = stream.try_next()
                    if event is not None:
                        assert event["_id"]["_data"] > token["_data"]
                    resumed += 1
        stop.touch()
        for writer in writers:
            assert writer.wait(120) == 0
    finally:
        for writer in writers:
            if writer.poll() is None:
                writer.kill()
        server.kill()
        server.wait()
    assert resumed == KILLS
    server = start(data, port)
    try:
        with pymongo.MongoClient(uri, serverSelectionTimeoutMS=10_000) as client:
            acknowledged = set()
            for i, out in enumerate(outputs):
                lines = out.read_text().split()
                acknowledged |= {
                    f"w{i}-{n}" for op, n in zip(lines[::2], lines[1::2], strict=True) if op == "I"
                }
            follower.wait_for(acknowledged, timeout=60)
            assert not follower.errors, follower.errors
            assert len(follower.seen) == len(set(follower.seen)), "an event came twice"
            for i, out in enumerate(outputs):
                name = f"w{i}"
                lines = out.read_text().split()
                inserted = {
                    int(n) for op, n in zip(lines[::2], lines[1::2], strict=True) if op == "I"
                }
                updated = [
                    int(n) for op, n in zip(lines[::2], lines[1::2], strict=True) if op == "U"
                ]
                assert len(inserted) > 50, f"{name} barely wrote: {len(inserted)}"
                stored = {d["n"] for d in client.kill.docs.find({"w": name})}
                assert inserted <= stored
                assert len(stored - inserted) <= 1  # at most the write under way at the end
                seen = client.kill.counters.find_one({"_id": name})["seen"]
                assert len(seen) == len(set(seen)), "an update was applied twice"
                assert set(updated) <= set(seen)
                assert seen == sorted(seen)
    finally:
        follower.stop.set()
        follower.join(30)
        server.kill()
        server.wait()
