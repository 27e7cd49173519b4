"""The examples in docstrings run."""

from __future__ import annotations

import doctest

import queryleaf.connection


def test_connection_docstring_examples() -> None:
    failures, tried = doctest.testmod(queryleaf.connection, verbose=False)
    assert tried > 0
    assert failures == 0
