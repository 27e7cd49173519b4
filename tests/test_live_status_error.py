"""A live query that fails while its status line is on a terminal: the line is erased, so
the error is printed on a line of its own, not glued to `... Ctrl-C stops`."""

from __future__ import annotations

import io

from prompt_toolkit.input import create_pipe_input
from pymongo.errors import OperationFailure

import queryleaf
from queryleaf.shell import live_output
from tests.test_repl import start

LIVE = "SELECT event_type FROM CHANGE_STREAM_EVENTS('orders') EMIT CHANGES LIMIT 1;"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def screen_lines(text: str) -> list[str]:
    """What a terminal shows for `text`: `\\r\\x1b[K` erases the line being written."""
    lines = [""]
    for piece in text.replace("\r\x1b[K", "\x00").split("\n"):
        lines[-1] += piece.rsplit("\x00", 1)[-1]
        lines.append("")
    return [line for line in lines if line]


def test_a_failing_live_query_erases_its_status_line_before_the_error(monkeypatch):
    def fail(*args, **kwargs):
        raise OperationFailure("The $changeStream stage is only supported on replica sets")

    monkeypatch.setattr(live_output, "stream_live", fail)
    err = Terminal()
    with queryleaf.connect() as conn, create_pipe_input() as pipe:
        assert start(conn, pipe, err=err).shell.run_sql(LIVE) is False
    lines = screen_lines(err.getvalue())
    failed = [line for line in lines if "only supported on replica sets" in line]
    assert failed and failed[0].startswith("MongoDB error"), lines
    assert not any("Ctrl-C stops" in line for line in lines), lines
