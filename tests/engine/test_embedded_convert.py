"""$convert and the $toX shorthands, $type, $isNumber."""

from __future__ import annotations

import datetime as dt

import pytest
from bson import Decimal128, Int64, ObjectId
from pymongo.errors import OperationFailure

UTC = dt.UTC


def test_to_int_and_year_of_null_or_missing_are_null(project):
    assert project({"$toInt": "$missing"}) == {"r": None}
    assert project({"$toInt": None}) == {"r": None}
    assert project({"$toLong": None}) == {"r": None}
    assert project({"$toInt": 2.9}) == {"r": 2}
    assert project({"$toInt": "42"}) == {"r": 42}


def test_convert_on_null_applies_to_missing_input(project):
    spec = {"input": "$missing", "to": "int", "onNull": 0}
    assert project({"$convert": spec}) == {"r": 0}


def test_convert_on_error_null_is_honoured(project):
    spec = {"input": "abc", "to": "int", "onError": None}
    assert project({"$convert": spec}) == {"r": None}
    assert project({"$convert": {**spec, "input": "1.5", "onError": -1}}) == {"r": -1}
    with pytest.raises(OperationFailure):
        project({"$convert": {"input": "abc", "to": "int"}})


def test_convert_each_target_type(project):
    def convert(value, to):
        return project({"$convert": {"input": value, "to": to}})["r"]

    assert convert("12", "long") == 12 and isinstance(convert("12", "long"), Int64)
    assert convert(1.9, "int") == 1
    assert convert("2.5", "double") == 2.5
    assert convert("2.5", "decimal") == Decimal128("2.5")
    assert convert(1.9, "decimal").to_decimal() == Decimal128("1.9").to_decimal()
    assert convert(False, "bool") is False
    assert convert("false", "bool") is True  # any string is true
    assert convert(0, "bool") is False
    assert convert("1970-01-01T00:00:00.001Z", "date") == dt.datetime(
        1970, 1, 1, 0, 0, 0, 1000, UTC
    )
    assert convert(Int64(1), "date") == dt.datetime(1970, 1, 1, 0, 0, 0, 1000, UTC)
    assert project({"$convert": {"input": 1, "to": "date", "onError": "no"}}) == {"r": "no"}


def test_to_string_formats_like_the_server(project):
    assert project({"$toString": 3.0}) == {"r": "3"}
    assert project({"$toString": 2.5}) == {"r": "2.5"}
    assert project({"$toString": True}) == {"r": "true"}
    assert project({"$toString": "$missing"}) == {"r": None}
    assert project({"$toString": Decimal128("1.90")}) == {"r": "1.90"}
    oid = ObjectId("0123456789abcdef01234567")
    assert project({"$toString": oid}) == {"r": "0123456789abcdef01234567"}
    midnight = {"d": dt.datetime(2021, 1, 1, tzinfo=UTC)}
    assert project({"$toString": "$d"}, midnight) == {"r": "2021-01-01T00:00:00.000Z"}


def test_to_double_and_to_long_of_a_date_are_epoch_milliseconds(project):
    doc = {"d": dt.datetime(1970, 1, 1, 0, 0, 0, 123000, UTC)}
    assert project({"$toDouble": "$d"}, doc) == {"r": 123.0}
    assert project({"$toLong": "$d"}, doc) == {"r": 123}


def test_type_names(project):
    assert project({"$type": "$missing"}) == {"r": "missing"}
    assert project({"$type": None}) == {"r": "null"}
    assert project({"$type": Decimal128("1")}) == {"r": "decimal"}
    assert project({"$type": ObjectId()}) == {"r": "objectId"}
    assert project({"$type": -(2**40)}) == {"r": "long"}
    assert project({"$type": 1.0}) == {"r": "double"}
    assert project({"$type": [[1]]}) == {"r": "array"}


def test_is_number(project):
    assert project({"$isNumber": Decimal128("1")}) == {"r": True}
    assert project({"$isNumber": "1"}) == {"r": False}
    assert project({"$isNumber": "$missing"}) == {"r": False}
    assert project({"$isNumber": True}) == {"r": False}
