"""The cheaper reads of the engine's aggregation: Decimal128 conversions (decimal_bits.py) equal
bson's, documents are tested without copies only when a copy would be equal (normal_form.py),
and nothing a $lookup reads without copying is changed in the store."""

from __future__ import annotations

import datetime as dt
import decimal
import random
from collections import OrderedDict
from typing import Any

from bson import Decimal128, Timestamp
from bson.decimal128 import create_decimal128_context

from queryleaf.engines.embedded import decimal_bits, normal_form

_SPECIAL = [
    "0", "-0", "1", "-1.00", "123.456", "1E+6111", "1E-6176", "0E-6176", "0E+6111",
    "9999999999999999999999999999999999", "-9999999999999999999999999999999999E-6176",
    "12345678901234567890123456789012345", "1E+6144", "1E-6200",
    "NaN", "-NaN", "sNaN", "Infinity", "-Infinity",
]  # fmt: skip


def _values() -> list[str]:
    rng = random.Random(16)
    values = list(_SPECIAL)
    for _ in range(3000):
        digits = rng.randint(1, 36)
        exponent = rng.randint(-6300, 6300) if rng.random() < 0.2 else rng.randint(-40, 40)
        sign = "-" if rng.random() < 0.5 else ""
        values.append(f"{sign}{rng.randint(0, 10**digits - 1)}E{exponent}")
    return values


def test_decimal128_conversions_equal_bsons() -> None:
    context = create_decimal128_context()
    for text in _values():
        value = context.create_decimal(decimal.Decimal(text))
        expected = Decimal128(value)
        assert decimal_bits.from_decimal(value).bid == expected.bid, text
        exact, fast = expected.to_decimal(), decimal_bits.to_decimal(expected)
        assert fast.as_tuple() == exact.as_tuple() or (fast.is_nan() and exact.is_nan()), text


def test_decimal128_reads_of_any_encoding_equal_bsons() -> None:
    # Non-canonical encodings (exponent or coefficient out of range) included.
    rng = random.Random(17)
    for _ in range(3000):
        value = Decimal128((rng.getrandbits(64), rng.getrandbits(64)))
        exact, fast = value.to_decimal(), decimal_bits.to_decimal(value)
        assert fast.as_tuple() == exact.as_tuple() or (fast.is_nan() and exact.is_nan())


WHEN = dt.datetime(2026, 5, 6, 7, 8, 9, 123000)


def test_only_documents_normalising_would_not_change_count_as_normal() -> None:
    assert normal_form.is_normal({"a": [1, {"b": WHEN, "c": None}], "d": Decimal128("1")})
    aware = WHEN.replace(tzinfo=dt.UTC)
    for changed in (
        {"a": aware},
        {"a": [WHEN.replace(microsecond=123456)]},
        {"a": {"t": Timestamp(0, 0)}},  # normalising gives the current timestamp
        {"a": (1, 2)},  # a tuple becomes a list
        OrderedDict(a=1),
        {"a": Timestamp(5, 1)},  # not a type it knows: normalised, as before
    ):
        assert not normal_form.is_normal(changed), changed


def test_match_tests_documents_as_their_normal_form_and_returns_them(db: Any) -> None:
    aware = dt.datetime(2026, 5, 6, 9, 8, 9, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    documents = [{"_id": 1, "at": aware}, {"_id": 2, "at": WHEN}, {"_id": 3, "at": None}]
    found = normal_form.match_stage(documents, db, {"at": {"$eq": WHEN}}, None)
    assert [d["_id"] for d in found] == [1, 2]
    assert found[0] is documents[0] and found[0]["at"] is aware  # the input, unchanged


def test_lookups_leave_the_documents_they_read_unchanged(db: Any) -> None:
    db.f.insert_many(
        [
            {"_id": 1, "k": "a", "sub": {"x": 1}, "tags": [1, 2]},
            {"_id": 2, "k": "a", "sub": {"x": 2}, "tags": [3]},
            {"_id": 3, "k": "b", "sub": {"x": 3}, "tags": []},
        ]
    )
    before = list(db.f.find())
    db.o.insert_many([{"_id": 10, "k": "a"}, {"_id": 11, "k": "b"}])
    # $unset of a dotted path changes the embedded document it reaches in place: only the
    # copies a $lookup makes keep it away from the stored documents.
    uncorrelated = [
        {"$group": {"_id": "$k", "first": {"$first": "$$ROOT"}}},
        {"$unset": "first.sub.x"},
        {"$sort": {"_id": 1}},
    ]
    correlated = [
        {"$match": {"$expr": {"$eq": ["$k", "$$k"]}}},
        {"$unset": ["sub.x", "tags"]},
        {"$set": {"added": True}},
    ]
    rows = list(
        db.o.aggregate(
            [
                {"$lookup": {"from": "f", "pipeline": uncorrelated, "as": "all"}},
                {"$lookup": {"from": "f", "let": {"k": "$k"}, "pipeline": correlated, "as": "own"}},
                {"$sort": {"_id": 1}},
            ]
        )
    )
    assert rows[0]["all"] == [
        {"_id": "a", "first": {"_id": 1, "k": "a", "sub": {}, "tags": [1, 2]}},
        {"_id": "b", "first": {"_id": 3, "k": "b", "sub": {}, "tags": []}},
    ]
    assert rows[0]["own"] == [
        {"_id": 1, "k": "a", "sub": {}, "added": True},
        {"_id": 2, "k": "a", "sub": {}, "added": True},
    ]
    assert rows[1]["own"] == [{"_id": 3, "k": "b", "sub": {}, "added": True}]
    assert list(db.f.find()) == before
