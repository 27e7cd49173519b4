"""Enter during a Ctrl-R history search accepts the search (the statement found is then run
by the next Enter); it does not type a new line into the search field."""

from __future__ import annotations

from prompt_toolkit.history import InMemoryHistory

import queryleaf
from tests.test_repl import session


def test_enter_accepts_a_history_search():
    history = InMemoryHistory(["SELECT 41 + 1 AS answer;"])
    with queryleaf.connect() as conn:
        result = session(conn, "\x12answ\r\r\\q\n", history=history)
    assert "│     42 │" in result.out
    assert result.code == 0
