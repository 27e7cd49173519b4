"""bench/translate.py's baseline, the TypeScript QueryLeaf (@queryleaf/lib, installed by
`make node-clients`), answers the bench's protocol: which statements it translates, and its own
timing. Not a speed test (bench/ prints speed); skipped without node or the package, except
under CI=true."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from queryleaf_ts import QueryLeafTS, Unavailable


@pytest.mark.timeout(120)
def test_the_typescript_queryleaf_translates_and_times_itself() -> None:
    try:
        leaf = QueryLeafTS()
    except Unavailable as missing:
        if os.environ.get("CI") == "true":
            pytest.fail(str(missing))
        pytest.skip(str(missing))
    try:
        corpus = [
            "SELECT name FROM users WHERE age > 30",
            "SELECT 1 + 2 AS three",  # QueryLeaf requires FROM
            "DELETE FROM users WHERE age > 120",
        ]
        ok, failed = leaf.load(corpus)
        assert ok == [0, 2]
        assert [index for index, _ in failed] == [1]
        assert "FROM" in failed[0][1]
        wall, cpu = leaf.seconds_per_statement(3)
        assert 0 < wall < 1 and 0 < cpu < 1
        assert leaf.version == "0.2.3"  # pinned in clients/node/package.json
    finally:
        leaf.close()
