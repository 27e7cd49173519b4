"""The TypeScript QueryLeaf (@queryleaf/lib from npm) as a baseline for bench/translate.py.

One node process stays up for the whole run (node's start-up is not counted); it times its
own translation with process.hrtime (bench/queryleaf_ts.cjs). `make node-clients` installs
the package, pinned in clients/node/package-lock.json.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "clients" / "node" / "node_modules" / "@queryleaf" / "lib"
SCRIPT = Path(__file__).with_name("queryleaf_ts.cjs")


class Unavailable(Exception):
    """node or @queryleaf/lib is missing; the message says how to install it."""


class QueryLeafTS:
    """A long-lived node process translating with QueryLeaf."""

    def __init__(self) -> None:
        node = shutil.which("node")
        if node is None:
            raise Unavailable("node is not installed (Debian: apt-get install nodejs npm)")
        if not (LIBRARY / "package.json").exists():
            raise Unavailable(f"@queryleaf/lib is not installed in {LIBRARY.parent.parent}: "
                              "run `make node-clients`")  # fmt: skip
        self._process = subprocess.Popen(
            [node, str(SCRIPT), str(LIBRARY)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.version = "?"

    def _ask(self, message: dict) -> dict:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps(message) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise Unavailable(f"the node process ended (exit {self._process.wait()})")
        return json.loads(line)

    def load(self, corpus: list[str]) -> tuple[list[int], list[tuple[int, str]]]:
        """Give node the corpus; returns the indexes QueryLeaf translates and the failures."""
        answer = self._ask({"corpus": corpus})
        self.version = answer["version"]
        return answer["ok"], [(index, message) for index, message in answer["failed"]]

    def seconds_per_statement(self, passes: int) -> tuple[float, float]:
        """Translate the loaded statements `passes` times; node's own timing per statement:
        (wall time by process.hrtime, node's CPU time by process.cpuUsage)."""
        answer = self._ask({"passes": passes})
        return answer["ns_per_statement"] / 1e9, answer["cpu_ns_per_statement"] / 1e9

    def close(self) -> None:
        if self._process.poll() is None:
            assert self._process.stdin is not None
            try:
                self._process.stdin.write(json.dumps({"quit": True}) + "\n")
                self._process.stdin.close()
            except (BrokenPipeError, OSError):
                pass
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
