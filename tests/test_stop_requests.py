"""SIGTERM/SIGINT end `queryleaf serve`, `queryleaf worker` and the PostgreSQL front end even
when the kernel delivers the signal to a thread other than the main one (the main thread,
asleep in a lock wait, would otherwise never run the handler): StopRequest polls."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from queryleaf.runtime.stop_requests import StopRequest


@pytest.fixture
def restored_handlers():
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def _bystander() -> tuple[threading.Thread, threading.Event]:
    release = threading.Event()
    thread = threading.Thread(target=release.wait, args=(10,), daemon=True)
    thread.start()
    return thread, release


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_taken_by_another_thread_ends_the_wait(restored_handlers, signum):
    stop = StopRequest()
    stop.install()
    thread, release = _bystander()
    try:
        signal.pthread_kill(thread.ident, signum)
        began = time.monotonic()
        assert stop.wait(timeout=5) is True
        assert time.monotonic() - began < 2
        assert stop.signal == signum
    finally:
        release.set()
        thread.join(5)


def test_a_stop_asked_by_code_ends_the_wait_and_a_timeout_says_false():
    stop = StopRequest()
    began = time.monotonic()
    assert stop.wait(timeout=0.3) is False
    assert 0.25 <= time.monotonic() - began < 2
    threading.Timer(0.1, stop.set).start()
    assert stop.wait(timeout=5) is True and stop.signal is None and stop.is_set()
