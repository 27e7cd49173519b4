"""`log:FILE` writes only to a regular file: a FIFO (or other special file) planted under the
name is refused at once instead of blocking the delivery (and every other log delivery
waiting on the same lock) until something reads it."""

from __future__ import annotations

import os
import threading

import pytest

from queryleaf.runtime.log_files import append_line

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")


def test_a_fifo_under_the_log_name_is_refused_without_blocking(tmp_path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    os.mkfifo(logs / "pipe.ndjson")
    outcome: list[BaseException | None] = []

    def deliver() -> None:
        try:
            append_line(str(logs), "pipe.ndjson", b"{}\n")
            outcome.append(None)
        except OSError as error:
            outcome.append(error)

    worker = threading.Thread(target=deliver, daemon=True)
    worker.start()
    worker.join(5.0)
    if worker.is_alive():  # unblock the writer so the thread ends, then fail
        reader = os.open(logs / "pipe.ndjson", os.O_RDONLY | os.O_NONBLOCK)
        worker.join(5.0)
        os.close(reader)
        pytest.fail("append_line blocked on a FIFO")
    (error,) = outcome
    assert isinstance(error, OSError)
    assert "regular file" in str(error)


def test_a_regular_file_is_appended_to(tmp_path) -> None:
    append_line(str(tmp_path), "e.ndjson", b"a\n")
    append_line(str(tmp_path), "e.ndjson", b"b\n")
    assert (tmp_path / "e.ndjson").read_bytes() == b"a\nb\n"
