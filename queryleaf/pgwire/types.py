"""PostgreSQL types for BSON values: the type OID a column is described with, and values in
text and binary format (both directions: results out, parameters in)."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import struct
import uuid
from collections.abc import Iterable
from typing import Any

from bson import Decimal128, ObjectId
from bson.binary import Binary

BOOL, BYTEA, CHAR, NAME, INT8, INT2, INT4, TEXT, OID = 16, 17, 18, 19, 20, 21, 23, 25, 26
JSON, FLOAT4, FLOAT8, UNKNOWN, VARCHAR, BPCHAR = 114, 700, 701, 705, 1043, 1042
DATE, TIMESTAMP, TIMESTAMPTZ, NUMERIC, UUID, JSONB = 1082, 1114, 1184, 1700, 2950, 3802
REGCLASS, REGTYPE, REGPROC, INT2VECTOR, OIDVECTOR, TEXT_ARRAY = 2205, 2206, 24, 22, 30, 1009

# name, size, array type, category: the rows of pg_type the catalog shows.
TYPES: dict[int, tuple[str, int, int, str]] = {
    BOOL: ("bool", 1, 1000, "B"),
    BYTEA: ("bytea", -1, 1001, "U"),
    CHAR: ("char", 1, 1002, "S"),
    NAME: ("name", 64, 1003, "S"),
    INT8: ("int8", 8, 1016, "N"),
    INT2: ("int2", 2, 1005, "N"),
    INT4: ("int4", 4, 1007, "N"),
    TEXT: ("text", -1, TEXT_ARRAY, "S"),
    OID: ("oid", 4, 1028, "N"),
    JSON: ("json", -1, 199, "U"),
    FLOAT4: ("float4", 4, 1021, "N"),
    FLOAT8: ("float8", 8, 1022, "N"),
    VARCHAR: ("varchar", -1, 1015, "S"),
    BPCHAR: ("bpchar", -1, 1014, "S"),
    DATE: ("date", 4, 1182, "D"),
    TIMESTAMP: ("timestamp", 8, 1115, "D"),
    TIMESTAMPTZ: ("timestamptz", 8, 1185, "D"),
    NUMERIC: ("numeric", -1, 1231, "N"),
    UUID: ("uuid", 16, 2951, "U"),
    JSONB: ("jsonb", -1, 3807, "U"),
    REGCLASS: ("regclass", 4, 2210, "N"),
    REGTYPE: ("regtype", 4, 2211, "N"),
    REGPROC: ("regproc", 4, 1008, "N"),
}
# format_type() spellings.
SQL_NAMES = {
    BOOL: "boolean",
    INT8: "bigint",
    INT2: "smallint",
    INT4: "integer",
    FLOAT4: "real",
    FLOAT8: "double precision",
    VARCHAR: "character varying",
    BPCHAR: "character",
    TIMESTAMP: "timestamp without time zone",
    TIMESTAMPTZ: "timestamp with time zone",
    NAME: "name",
    CHAR: '"char"',
}
# Type names in casts and Parse to OIDs.
BY_NAME: dict[str, int] = {name: oid for oid, (name, *_rest) in TYPES.items()}
BY_NAME.update(
    {
        "boolean": BOOL,
        "smallint": INT2,
        "integer": INT4,
        "int": INT4,
        "bigint": INT8,
        "real": FLOAT4,
        "double": FLOAT8,
        "double precision": FLOAT8,
        "decimal": NUMERIC,
        "character varying": VARCHAR,
        "character": BPCHAR,
        "char": BPCHAR,
        "timestamp with time zone": TIMESTAMPTZ,
        "timestamp without time zone": TIMESTAMP,
        "datetime": TIMESTAMP,
    }
)

POSTGRES_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
POSTGRES_EPOCH_DATE = dt.date(2000, 1, 1)


class ValueError22(Exception):
    """A value that does not fit its column or parameter type (SQLSTATE 22P02/22003)."""

    def __init__(self, message: str, sqlstate: str = "22P02") -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def type_size(oid: int) -> int:
    return TYPES.get(oid, ("", -1, 0, ""))[1]


def type_name(oid: int) -> str:
    return SQL_NAMES.get(oid) or TYPES.get(oid, ("text", 0, 0, ""))[0]


def sample_value(oid: int) -> Any:
    """A stand-in value of a type, for compiling a statement before its parameters are bound."""
    if oid in (INT2, INT4, INT8, OID):
        return 1
    if oid in (FLOAT4, FLOAT8, NUMERIC):
        return 1.0
    if oid == BOOL:
        return True
    if oid in (DATE, TIMESTAMP, TIMESTAMPTZ):
        return dt.datetime(2000, 1, 1)
    if oid in (JSON, JSONB):
        return {}
    return "x"


def oid_of_value(value: Any) -> int | None:
    """The type of one BSON value; None for NULL."""
    if value is None:
        return None
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT8
    if isinstance(value, float):
        return FLOAT8
    if isinstance(value, Decimal128 | decimal.Decimal):
        return NUMERIC
    if isinstance(value, dt.datetime):
        return TIMESTAMPTZ
    if isinstance(value, dt.date):
        return DATE
    if isinstance(value, uuid.UUID):
        return UUID
    if isinstance(value, bytes | Binary):
        return BYTEA
    if isinstance(value, dict | list):
        return JSONB
    return TEXT


def column_oid(values: Iterable[Any]) -> int:
    """One type for a column from the values in it."""
    return column_oid_of_types(oid_of_value(value) for value in values)


def column_oid_of_types(oids: Iterable[int | None]) -> int:
    """Integers and floats together are float8, any decimal makes numeric, dates and
    timestamps timestamptz; anything else mixed is text."""
    seen = {oid for oid in oids if oid is not None}
    if not seen:
        return TEXT
    if len(seen) == 1:
        return seen.pop()
    if seen <= {INT8, FLOAT8}:
        return FLOAT8
    if seen <= {INT8, FLOAT8, NUMERIC}:
        return NUMERIC
    if seen <= {DATE, TIMESTAMPTZ}:
        return TIMESTAMPTZ
    return TEXT


def _json_default(value: Any) -> Any:
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal128):
        return str(value.to_decimal())
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def to_json(value: Any) -> str:
    return json.dumps(value, default=_json_default, ensure_ascii=False, separators=(", ", ": "))


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _text(value: Any) -> str:
    """A value as PostgreSQL prints it."""
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, Decimal128):
        return str(value.to_decimal())
    if isinstance(value, dt.datetime):
        text = _utc(value).isoformat(sep=" ")
        return text[:-6] + "+00" if text.endswith("+00:00") else text
    if isinstance(value, dict | list):
        return to_json(value)
    if isinstance(value, bytes | Binary):
        return "\\x" + bytes(value).hex()
    return str(value)


def encode(value: Any, oid: int, binary: bool, column: str = "") -> bytes | None:
    """A result value in the format asked for; raises ValueError22 when it does not fit."""
    if value is None:
        return None
    try:
        if not binary:
            return _encode_text(value, oid)
        return _encode_binary(value, oid)
    except (TypeError, ValueError, OverflowError, struct.error, decimal.InvalidOperation):
        raise ValueError22(
            f"column {column!r}: value {_text(value)[:60]!r} is not of type {type_name(oid)} "
            "(the type was described from the declared or sampled fields)"
        ) from None


def _encode_text(value: Any, oid: int) -> bytes:
    if oid in (INT2, INT4, INT8, OID):
        return str(_as_int(value)).encode()
    if oid in (FLOAT4, FLOAT8) and not isinstance(value, str | bool):
        return _text(float(value)).encode()
    if oid == BOOL and not isinstance(value, bool):
        raise ValueError("not a boolean")
    if oid == TIMESTAMP and isinstance(value, dt.datetime):
        return _utc(value).replace(tzinfo=None).isoformat(sep=" ").encode()
    return _text(value).encode()


def _as_int(value: Any) -> int:
    if isinstance(value, (bool, str)):
        raise ValueError("not an integer")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("not an integer")
    return int(value)


def _encode_binary(value: Any, oid: int) -> bytes:
    if oid == BOOL:
        if not isinstance(value, bool):
            raise ValueError("not a boolean")
        return b"\x01" if value else b"\x00"
    if oid == INT2:
        return struct.pack("!h", _as_int(value))
    if oid in (INT4, OID, REGCLASS, REGTYPE, REGPROC):
        return struct.pack("!i" if oid == INT4 else "!I", _as_int(value))
    if oid == INT8:
        return struct.pack("!q", _as_int(value))
    if oid == FLOAT4:
        return struct.pack("!f", float(value))
    if oid == FLOAT8:
        if isinstance(value, str | bool):
            raise ValueError("not a number")
        return struct.pack("!d", float(value))
    if oid == NUMERIC:
        return encode_numeric(value)
    if oid == BYTEA:
        return bytes(value)
    if oid == UUID:
        return (value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))).bytes
    if oid == DATE:
        day = value.date() if isinstance(value, dt.datetime) else value
        return struct.pack("!i", (day - POSTGRES_EPOCH_DATE).days)
    if oid in (TIMESTAMP, TIMESTAMPTZ):
        delta = _utc(value) - POSTGRES_EPOCH
        micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
        return struct.pack("!q", micros)
    if oid == JSONB:
        return b"\x01" + _json_text(value).encode()
    if oid == JSON:
        return _json_text(value).encode()
    return _text(value).encode()


def _json_text(value: Any) -> str:
    return value if isinstance(value, str) else to_json(value)


def encode_numeric(value: Any) -> bytes:
    """numeric's binary form: base-10000 digits with weight, sign and display scale."""
    if isinstance(value, Decimal128):
        value = value.to_decimal()
    number = (
        decimal.Decimal(value) if not isinstance(value, float) else decimal.Decimal(repr(value))
    )
    if number.is_nan():
        return struct.pack("!hhHH", 0, 0, 0xC000, 0)
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    scale = max(0, -exponent)
    text = "".join(map(str, digits))
    # Pad so the decimal point falls on a base-10000 boundary.
    integer_len = len(text) + exponent
    frac_pad = (-(len(text) - integer_len)) % 4 if len(text) > integer_len else 0
    text += "0" * frac_pad
    int_pad = (-integer_len) % 4
    text = "0" * int_pad + text
    integer_len += int_pad
    groups = [int(text[i : i + 4]) for i in range(0, len(text), 4)]
    weight = integer_len // 4 - 1
    while groups and groups[0] == 0:
        groups.pop(0)
        weight -= 1
    while groups and groups[-1] == 0:
        groups.pop()
    if not groups:
        weight = 0
    head = struct.pack("!hhHH", len(groups), weight, 0x4000 if sign else 0, scale)
    return head + struct.pack(f"!{len(groups)}H", *groups)


def decode_numeric(data: bytes) -> decimal.Decimal:
    ndigits, weight, sign, scale = struct.unpack_from("!hhHH", data, 0)
    if sign == 0xC000:
        return decimal.Decimal("NaN")
    digits = struct.unpack_from(f"!{ndigits}H", data, 8)
    value = decimal.Decimal(0)
    for index, digit in enumerate(digits):
        value += decimal.Decimal(digit).scaleb(4 * (weight - index))
    value = value.quantize(decimal.Decimal(1).scaleb(-scale)) if scale else value
    return -value if sign == 0x4000 else value


# --- parameters in -------------------------------------------------------------------------


def decode_param(data: bytes | None, oid: int, binary: bool) -> Any:
    """A Bind parameter to the Python value queryleaf binds."""
    if data is None:
        return None
    if binary:
        try:
            return _decode_binary(data, oid)
        except (struct.error, ValueError, OverflowError, IndexError):  # (also bad UTF-8, JSON)
            raise ValueError22(
                f"incorrect binary data format in a parameter of type {type_name(oid)}", "22P03"
            ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError22('invalid byte sequence for encoding "UTF8"', "22021") from None
    try:
        return _decode_text(text, oid)
    except (ValueError, decimal.InvalidOperation):
        raise ValueError22(f"invalid input syntax for type {type_name(oid)}: {text!r}") from None


def _decode_text(text: str, oid: int) -> Any:
    if oid in (INT2, INT4, INT8, OID):
        return int(text)
    if oid in (FLOAT4, FLOAT8):
        return float(text)
    if oid == NUMERIC:
        number = decimal.Decimal(text)
        return (
            int(number)
            if number == number.to_integral_value() and "." not in text
            else float(number)
        )
    if oid == BOOL:
        lowered = text.strip().lower()
        if lowered in ("t", "true", "y", "yes", "on", "1"):
            return True
        if lowered in ("f", "false", "n", "no", "off", "0"):
            return False
        raise ValueError(text)
    if oid in (JSON, JSONB):
        return json.loads(text)
    if oid == DATE:
        return dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
    if oid in (TIMESTAMP, TIMESTAMPTZ):
        return _parse_timestamp(text)
    if oid == UUID:
        return str(uuid.UUID(text))
    if oid == BYTEA:
        return bytes.fromhex(text[2:]) if text.startswith("\\x") else text.encode()
    return text


def _parse_timestamp(text: str) -> dt.datetime:
    value = text.strip().replace(" ", "T", 1)
    if value.endswith(("+00", "-00")) or (
        len(value) > 3 and value[-3] in "+-" and value[-2:].isdigit()
    ):
        value += ":00"
    parsed = dt.datetime.fromisoformat(value)
    return _utc(parsed).replace(tzinfo=None) if parsed.tzinfo else parsed


def _decode_binary(data: bytes, oid: int) -> Any:
    if oid == BOOL:
        if len(data) != 1:
            raise ValueError("a binary bool is one byte")
        return data != b"\x00"
    if oid == INT2:
        return struct.unpack("!h", data)[0]
    if oid == INT4:
        return struct.unpack("!i", data)[0]
    if oid == OID:
        return struct.unpack("!I", data)[0]
    if oid == INT8:
        return struct.unpack("!q", data)[0]
    if oid == FLOAT4:
        return struct.unpack("!f", data)[0]
    if oid == FLOAT8:
        return struct.unpack("!d", data)[0]
    if oid == NUMERIC:
        return float(decode_numeric(data))
    if oid == BYTEA:
        return bytes(data)
    if oid == UUID:
        return str(uuid.UUID(bytes=data))
    if oid == DATE:
        days = struct.unpack("!i", data)[0]
        return dt.datetime.combine(POSTGRES_EPOCH_DATE + dt.timedelta(days=days), dt.time())
    if oid in (TIMESTAMP, TIMESTAMPTZ):
        micros = struct.unpack("!q", data)[0]
        return (POSTGRES_EPOCH + dt.timedelta(microseconds=micros)).replace(tzinfo=None)
    if oid == JSONB:
        return json.loads(data[1:].decode())
    if oid == JSON:
        return json.loads(data.decode())
    return data.decode("utf-8")
