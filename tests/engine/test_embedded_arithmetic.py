"""Arithmetic operators: result values and BSON result types, as the server computes them."""

from __future__ import annotations

import pytest
from bson import Decimal128, Int64
from pymongo.errors import OperationFailure


def test_round_half_to_even_keeping_the_input_type(project):
    # Examples from the $round reference page.
    assert project({"$round": [19.25, 1]}) == {"r": 19.2}
    assert project({"$round": [28.73, 1]}) == {"r": 28.7}
    assert project({"$round": [-45.39, 1]}) == {"r": -45.4}
    row = project({"$round": [2.5, 0]})
    assert row == {"r": 2.0} and isinstance(row["r"], float)
    assert project({"$round": [3.5]}) == {"r": 4.0}
    assert project({"$round": [-2.5]}) == {"r": -2.0}
    row = project({"$round": [1250, -2]})
    assert row == {"r": 1200} and type(row["r"]) is int
    assert project({"$round": ["$missing", 1]}) == {"r": None}


def test_trunc_with_place(project):
    assert project({"$trunc": [19.25, 1]}) == {"r": 19.2}
    assert project({"$trunc": [-45.39, 1]}) == {"r": -45.3}
    assert project({"$trunc": [1259, -1]}) == {"r": 1250}
    row = project({"$trunc": -7.8})
    assert row == {"r": -7.0} and isinstance(row["r"], float)


def test_mod_of_integers_is_an_integer_with_the_dividends_sign(project):
    row = project({"$mod": [10, 3]})
    assert row == {"r": 1} and type(row["r"]) is int
    assert project({"$mod": [-5, 3]}) == {"r": -2}
    assert project({"$mod": [5.5, 2]}) == {"r": 1.5}
    with pytest.raises(OperationFailure):
        project({"$mod": [5, 0]})


def test_pow_of_integers_is_an_integer(project):
    row = project({"$pow": [2, 3]})
    assert row == {"r": 8} and type(row["r"]) is int
    assert project({"$pow": [2, -1]}) == {"r": 0.5}
    with pytest.raises(OperationFailure):
        project({"$pow": [0, -1]})


def test_ceil_floor_abs_keep_the_input_type(project):
    ceil, floor = project({"$ceil": 1.2}), project({"$floor": -1.2})
    assert ceil == {"r": 2.0} and isinstance(ceil["r"], float)
    assert floor == {"r": -2.0} and isinstance(floor["r"], float)
    assert project({"$abs": -3}) == {"r": 3}
    assert project({"$abs": "$missing"}) == {"r": None}


def test_decimal_arithmetic_returns_decimals(project):
    doc = {"d": Decimal128("1.5")}
    assert project({"$add": ["$d", 1]}, doc) == {"r": Decimal128("2.5")}
    assert project({"$subtract": ["$d", 1]}, doc) == {"r": Decimal128("0.5")}
    assert project({"$multiply": ["$d", 2]}, doc)["r"].to_decimal() == 3
    assert project({"$divide": ["$d", 3]}, doc) == {"r": Decimal128("0.5")}


def test_divide_by_zero_is_an_error(project):
    with pytest.raises(OperationFailure):
        project({"$divide": [7, 0]})
    assert project({"$divide": [7, 2]}) == {"r": 3.5}


def test_integer_overflow_widens_to_long(project):
    row = project({"$add": [2**31 - 1, 1]})
    assert row == {"r": 2**31} and isinstance(row["r"], Int64)
    assert project({"$add": [1, "$missing"]}) == {"r": None}


def test_math_functions(project):
    assert project({"$sqrt": 16}) == {"r": 4.0}
    assert project({"$exp": 0}) == {"r": 1.0}
    assert project({"$ln": 1}) == {"r": 0.0}
    assert project({"$log10": 100}) == {"r": 2.0}
    assert project({"$log": [8, 2]}) == {"r": 3.0}
    with pytest.raises(OperationFailure):
        project({"$sqrt": -1})
