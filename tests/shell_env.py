"""The environment a shell test runs in: no test reads or writes the real ~/.config or
~/.local/share, pages or colours, and tables are 100 columns wide."""

from __future__ import annotations

from pathlib import Path

import pytest


def isolate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "100")
    for name in ("NO_COLOR", "QUERYLEAF_DEBUG", "PAGER", "EDITOR", "VISUAL"):
        monkeypatch.delenv(name, raising=False)
