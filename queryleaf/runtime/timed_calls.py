"""Calls with a deadline, for Python handlers (`processing_timeout_ms`).

Python cannot interrupt a thread, so a handler runs in a helper thread and the caller waits
for it at most the timeout. A call that overruns fails with CallTimeout (the delivery is then
retried or dead-lettered like any failure); its helper thread is abandoned to finish, or hang,
on its own, and later calls get a fresh one. Helpers are daemon threads, so a hung handler
never keeps the process from exiting. An abandoned call that returns later still had its
effect: at-least-once delivery, as after any retry."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any


class CallTimeout(TimeoutError):
    pass


class _Call:
    __slots__ = ("args", "done", "error", "function", "result")

    def __init__(self, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.function, self.args = function, args
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None


class _Helper:
    """A daemon thread running the calls it is given, one at a time."""

    def __init__(self, name: str) -> None:
        self.calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        threading.Thread(target=self._run, name=name, daemon=True).start()

    def _run(self) -> None:
        while (call := self.calls.get()) is not None:
            try:
                call.result = call.function(*call.args)
            except BaseException as error:  # handed to the caller, whatever it is
                call.error = error
            call.done.set()


class TimedCalls:
    """Runs calls in helper threads (as many as there are concurrent callers), each waited
    for at most `timeout` seconds."""

    def __init__(self, timeout: float, name: str = "queryleaf-handler") -> None:
        self.timeout, self.name = timeout, name
        self._idle: list[_Helper] = []
        self._lock = threading.Lock()

    def call(self, function: Callable[..., Any], *args: Any) -> Any:
        with self._lock:
            helper = self._idle.pop() if self._idle else _Helper(self.name)
        call = _Call(function, args)
        helper.calls.put(call)
        if not call.done.wait(self.timeout):
            helper.calls.put(None)  # it ends once the overrunning call returns, if ever
            raise CallTimeout(f"did not return within {self.timeout * 1000:.0f} ms")
        with self._lock:
            self._idle.append(helper)
        if call.error is not None:
            raise call.error
        return call.result

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for helper in idle:
            helper.calls.put(None)
