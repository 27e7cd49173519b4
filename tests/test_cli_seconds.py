"""--connect-timeout and --timeout take a positive, finite number of seconds: anything else
is a usage error (exit status 2), not an internal error."""

from __future__ import annotations

import pytest

from queryleaf.shell.cli import main


@pytest.mark.parametrize("option", ["--connect-timeout", "--timeout"])
@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "soon"])
def test_seconds_must_be_a_positive_finite_number(capsys, option, value):
    code = main(["--uri", "mongodb://127.0.0.1:1", f"{option}={value}", "-e", "SELECT 1 AS x"])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert option in err and "internal error" not in err
