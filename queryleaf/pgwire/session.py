"""One client connection's protocol state machine, over bytes and with no I/O: `receive(data)`
returns the bytes to send back (and flags for TLS, cancel and close). Statements go to a
`Backend` (queryleaf.pgwire.backend) that runs them synchronously; the asyncio loop in
queryleaf.pgwire.server calls `receive` in a worker thread after authentication.

Phases: startup (SSLRequest/GSSENCRequest/CancelRequest, the startup packet, protocol
negotiation), authentication (trust or SCRAM-SHA-256), then simple and extended queries. After
an error in the extended protocol every message up to Sync is discarded."""

from __future__ import annotations

import secrets
import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from queryleaf.pgwire import codec, scram, types
from queryleaf.pgwire.codec import FieldDescription, Frame, ProtocolViolation, Reader
from queryleaf.pgwire.outcome import Backend, Cancelled, Outcome, PgError
from queryleaf.pgwire.sqlstate import error_fields, notice_fields

__all__ = ["AuthConfig", "Backend", "Cancelled", "Outcome", "PgError", "Session"]

SERVER_VERSION = "15.0 (queryleaf)"


@dataclass
class AuthConfig:
    """Trust (no password) or SCRAM-SHA-256 against `users` (name -> Verifier)."""

    users: dict[str, scram.Verifier] | None = None
    # Made-up verifiers for unknown user names derive from it (stable for the server's life).
    mock_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    @property
    def trust(self) -> bool:
        return self.users is None


@dataclass
class Prepared:
    sql: str
    param_oids: list[int]
    fields: list[tuple[str, int]] | None = None
    described: bool = False


@dataclass
class Portal:
    statement: Prepared
    params: list[Any]
    formats: list[int]
    outcome: Outcome | None = None
    outcomes: Iterator[Outcome] | None = None
    fields: list[tuple[str, int]] | None = None


@dataclass
class Output:
    data: bytearray = field(default_factory=bytearray)
    start_tls: bool = False
    close: bool = False
    cancel: tuple[int, int] | None = None


class Session:
    def __init__(
        self,
        backend_factory: Callable[[Session], Backend],
        auth: AuthConfig,
        *,
        tls_available: bool = False,
        parameters: dict[str, str] | None = None,
    ) -> None:
        self.backend_factory = backend_factory
        self.backend: Backend | None = None
        self.auth = auth
        self.tls_available = tls_available
        self.reader = codec.FrameReader()
        self.pid = secrets.randbelow(2**30) + 1
        self.secret = secrets.randbits(31)
        self.params: dict[str, str] = {}
        self.user = ""
        self.phase = "startup"
        self.encrypted = False  # TLS was negotiated
        self.scram: scram.ScramExchange | None = None
        self.statements: dict[str, Prepared] = {}
        self.portals: dict[str, Portal] = {}
        self.skip_until_sync = False
        self.cancel_requested = False
        self.disconnected = False  # set by the server when the client hangs up mid-statement
        # Set by the server: hand bytes to the connection from a worker or listener thread.
        self.on_flush: Callable[[bytes], None] | None = None
        self.notify: Callable[[bytes], None] | None = None
        self.server_parameters = {
            "server_version": SERVER_VERSION,
            "server_encoding": "UTF8",
            "client_encoding": "UTF8",
            "DateStyle": "ISO, MDY",
            "IntervalStyle": "postgres",
            "integer_datetimes": "on",
            "standard_conforming_strings": "on",
            "TimeZone": "UTC",
            "is_superuser": "off",
            "application_name": "",
            **(parameters or {}),
        }

    @property
    def authenticated(self) -> bool:
        return self.phase == "ready"

    # --- input ------------------------------------------------------------------------------

    def receive(self, data: bytes) -> Output:
        out = Output()
        self.reader.feed(data)
        try:
            while not out.close and not out.start_tls:
                frame = self.reader.next()
                if frame is None:
                    break
                self._dispatch(frame, out)
        except (ProtocolViolation, struct.error, IndexError, UnicodeDecodeError) as error:
            # A malformed startup or authentication message ends the connection.
            message = str(error) if isinstance(error, ProtocolViolation) else "malformed message"
            out.data += codec.error_response(
                {"S": "FATAL", "V": "FATAL", "C": "08P01", "M": message}
            )
            out.close = True
        return out

    def _dispatch(self, frame: Frame, out: Output) -> None:
        if self.phase == "startup":
            self._startup(frame, out)
        elif self.phase == "auth":
            self._authenticate(frame, out)
        else:
            self._message(frame, out)

    # --- startup and authentication ---------------------------------------------------------

    def _startup(self, frame: Frame, out: Output) -> None:
        code, params = codec.parse_startup(frame.payload)
        if code in (codec.SSL_REQUEST, codec.GSSENC_REQUEST) and self.encrypted:
            raise ProtocolViolation("encryption requested again over an encrypted connection")
        if code == codec.SSL_REQUEST:
            if self.tls_available and self.reader.buffer:
                # Bytes sent in the clear before the handshake would count as sent over TLS.
                raise ProtocolViolation("received unencrypted data after SSL request")
            out.data += b"S" if self.tls_available else codec.SSL_NO
            out.start_tls = self.encrypted = self.tls_available
            return
        if code == codec.GSSENC_REQUEST:
            out.data += codec.SSL_NO
            return
        if code == codec.CANCEL_REQUEST:
            reader = Reader(frame.payload[4:])
            out.cancel = (reader.int32(), reader.int32())
            out.close = True
            return
        if code >> 16 != 3:
            out.data += self._fatal(
                "0A000", f"unsupported frontend protocol {code >> 16}.{code & 0xFFFF}"
            )
            out.close = True
            return
        unknown = [name for name in params if name.startswith("_pq_.")]
        if code & 0xFFFF or unknown:
            out.data += codec.negotiate_protocol_version(0, unknown)
        self.params = {k: v for k, v in params.items() if not k.startswith("_pq_.")}
        self.user = self.params.get("user", "")
        if not self.user:
            out.data += self._fatal("28000", "no PostgreSQL user name specified in startup packet")
            out.close = True
            return
        self.reader.startup = False
        self.reader.limit = codec.MAX_PREAUTH_MESSAGE
        if self.auth.trust:
            self._finish_auth(out)
            return
        self.phase = "auth"
        out.data += codec.auth_sasl([scram.MECHANISM])

    def _authenticate(self, frame: Frame, out: Output) -> None:
        if frame.kind != "p":
            raise ProtocolViolation(f"expected a password message, got {frame.kind!r}")
        assert self.auth.users is not None
        try:
            reader = Reader(frame.payload)
            if self.scram is None:
                mechanism = reader.cstring()
                if mechanism != scram.MECHANISM:
                    raise scram.AuthFailed(f"unsupported SASL mechanism {mechanism}")
                size = reader.int32()
                client_first = reader.raw(size).decode() if size >= 0 else ""
                verifier = self.auth.users.get(self.user)
                # An unknown user gets a made-up verifier so the exchange looks the same.
                self.scram = scram.ScramExchange(
                    verifier or scram.Verifier.mock(self.user, self.auth.mock_secret)
                )
                self._known_user = verifier is not None
                out.data += codec.auth_sasl_continue(self.scram.first(client_first).encode())
                return
            final = self.scram.final(reader.rest().decode())
            if not self._known_user:
                raise scram.AuthFailed("password authentication failed")
        except scram.AuthFailed:
            out.data += self._fatal(
                "28P01", f'password authentication failed for user "{self.user}"'
            )
            out.close = True
            return
        out.data += codec.auth_sasl_final(final.encode())
        self._finish_auth(out)

    def _finish_auth(self, out: Output) -> None:
        out.data += codec.auth_ok()
        self.phase = "ready"
        self.reader.limit = codec.MAX_MESSAGE
        if "application_name" in self.params:
            self.server_parameters["application_name"] = self.params["application_name"]
        for name, value in self.server_parameters.items():
            out.data += codec.parameter_status(name, value)
        out.data += codec.backend_key_data(self.pid, self.secret)
        self.backend = self.backend_factory(self)
        out.data += self._ready()

    def _fatal(self, state: str, message: str) -> bytes:
        return codec.error_response({"S": "FATAL", "V": "FATAL", "C": state, "M": message})

    def _ready(self) -> bytes:
        assert self.backend is not None
        return codec.ready_for_query(self.backend.transaction_status())

    # --- queries ----------------------------------------------------------------------------

    def _message(self, frame: Frame, out: Output) -> None:
        kind = frame.kind
        if kind == "X":
            out.close = True
            return
        if kind == "S":
            self.skip_until_sync = False
            self._close_unnamed_portal()
            out.data += self._ready()
            return
        if kind == "H":
            return  # everything is written when receive returns
        if self.skip_until_sync:
            return  # after an error every message up to Sync is read and dropped
        handler = {
            "Q": self._simple_query,
            "P": self._parse,
            "B": self._bind,
            "D": self._describe,
            "E": self._execute,
            "C": self._close,
        }.get(kind)
        if handler is None:
            raise ProtocolViolation(f"unexpected message type {kind!r}")
        try:
            handler(Reader(frame.payload), out)
        except ProtocolViolation:
            raise
        except Exception as error:  # every failure becomes an ErrorResponse, never a traceback
            out.data += codec.error_response(self._error_fields(error))
            self._failed()
            if kind != "Q":
                self.skip_until_sync = True

    def _failed(self) -> None:
        failed = getattr(self.backend, "failed", None)
        if failed is not None:
            failed()

    def _error_fields(self, error: BaseException) -> dict[str, str]:
        statement = getattr(error, "pg_statement", "")
        offset = getattr(error, "pg_offset", 0)
        fields = error_fields(error, statement, offset)
        if not hasattr(error, "code") and not hasattr(error, "sqlstate"):
            fields["M"] = f"internal error: {type(error).__name__}: {error}"
        return fields

    def _simple_query(self, reader: Reader, out: Output) -> None:
        sql = reader.cstring()
        assert self.backend is not None
        self.cancel_requested = False  # a CancelRequest only stops what runs when it arrives
        try:
            if not sql.strip().strip(";").strip():
                out.data += codec.EMPTY_QUERY
            else:
                for outcome in self.backend.execute(sql, None):
                    self._send_outcome(outcome, None, [], 0, out)
        except Exception as error:
            out.data += codec.error_response(self._error_fields(error))
            self._failed()
        out.data += self._ready()

    def _parse(self, reader: Reader, out: Output) -> None:
        name = reader.cstring()
        sql = reader.cstring()
        count = reader.int16()
        given = [reader.int32() for _ in range(count)]
        assert self.backend is not None
        if name and name in self.statements:
            raise PgError("42P05", f'prepared statement "{name}" already exists')
        oids = self.backend.parameter_types(sql, given)
        prepared = Prepared(sql, oids)
        self._fields(prepared)  # compiled now (not run): errors surface at Parse, as in PostgreSQL
        self.statements[name] = prepared
        out.data += codec.PARSE_COMPLETE

    def _bind(self, reader: Reader, out: Output) -> None:
        portal_name = reader.cstring()
        statement = self._statement(reader.cstring())
        format_count = reader.int16()
        param_formats = [reader.int16() for _ in range(format_count)]
        count = reader.int16()
        if len(param_formats) not in (0, 1, count):
            raise PgError(
                "08P01",
                f"bind message has {len(param_formats)} parameter formats but {count} parameters",
            )
        if count != len(statement.param_oids):
            raise PgError(
                "08P01",
                f"bind message supplies {count} parameters, but the prepared statement "
                f"requires {len(statement.param_oids)}",
            )
        values = []
        for index in range(count):
            size = reader.int32()
            data = None if size < 0 else reader.raw(size)
            fmt = _format_for(param_formats, index)
            values.append(types.decode_param(data, statement.param_oids[index], fmt == 1))
        result_count = reader.int16()
        formats = [reader.int16() for _ in range(result_count)]
        for code in (*param_formats, *formats):
            if code not in (0, 1):
                raise PgError("22023", f"unsupported format code: {code}")
        self.portals[portal_name] = Portal(statement, values, formats)
        out.data += codec.BIND_COMPLETE

    def _statement(self, name: str) -> Prepared:
        if name not in self.statements:
            raise PgError("26000", f'prepared statement "{name}" does not exist')
        return self.statements[name]

    def _portal(self, name: str) -> Portal:
        if name not in self.portals:
            raise PgError("34000", f'portal "{name}" does not exist')
        return self.portals[name]

    def _fields(self, prepared: Prepared) -> list[tuple[str, int]] | None:
        if not prepared.described:
            assert self.backend is not None
            prepared.fields = self.backend.describe(prepared.sql, prepared.param_oids)
            prepared.described = True
        return prepared.fields

    def _describe(self, reader: Reader, out: Output) -> None:
        what = reader.byte()
        name = reader.cstring()
        if what == "S":
            prepared = self._statement(name)
            out.data += codec.parameter_description(prepared.param_oids)
            fields = self._fields(prepared)
            formats: list[int] = []
        elif what == "P":
            portal = self._portal(name)
            fields = self._fields(portal.statement)
            portal.fields = fields
            formats = portal.formats
        else:
            raise ProtocolViolation(f"invalid Describe target {what!r}")
        if fields is None:
            out.data += codec.NO_DATA
        else:
            out.data += codec.row_description(_descriptions(fields, formats))

    def _execute(self, reader: Reader, out: Output) -> None:
        portal = self._portal(reader.cstring())
        limit = reader.int32()
        assert self.backend is not None
        self.cancel_requested = False
        if portal.outcomes is None:
            portal.outcomes = iter(self.backend.execute(portal.statement.sql, portal.params))
            portal.outcome = next(portal.outcomes, None)
        if portal.outcome is None:
            out.data += codec.EMPTY_QUERY
            return
        # The columns announced by Describe (of the portal or, as pg8000 and asyncpg do, of
        # the statement): rows are encoded in exactly those types.
        described = portal.statement.fields if portal.statement.described else portal.fields
        done = self._send_outcome(portal.outcome, described, portal.formats, limit, out, portal)
        if not done:
            out.data += codec.PORTAL_SUSPENDED

    def _close(self, reader: Reader, out: Output) -> None:
        what = reader.byte()
        name = reader.cstring()
        if what == "S":  # its portals close with it, as in PostgreSQL
            closed = self.statements.pop(name, None)
            self.portals = {k: p for k, p in self.portals.items() if p.statement is not closed}
        else:
            self.portals.pop(name, None)
        out.data += codec.CLOSE_COMPLETE

    def _close_unnamed_portal(self) -> None:
        self.portals.pop("", None)

    # --- results ----------------------------------------------------------------------------

    def _send_outcome(
        self,
        outcome: Outcome,
        described: list[tuple[str, int]] | None,
        formats: list[int],
        limit: int,
        out: Output,
        portal: Portal | None = None,
    ) -> bool:
        """Rows (up to `limit` when > 0) then the command tag; False when suspended."""
        for notice in outcome.notices:
            out.data += codec.notice_response(notice_fields(notice))
        outcome.notices = []
        if outcome.empty:
            out.data += codec.EMPTY_QUERY
            return True
        if outcome.rows is None:
            for name, value in outcome.parameters.items():
                self.server_parameters[name] = value
                out.data += codec.parameter_status(name, value)
            out.data += codec.command_complete(outcome.tag)
            return True
        columns = outcome.columns or []
        rows: Iterator[Sequence[Any]] = outcome.rows
        if described is not None and [n for n, _ in described] != [n for n, _ in columns]:
            rows = _project(rows, [n for n, _ in columns], [n for n, _ in described])
        if described is not None:
            columns = described
        if portal is None:  # simple query: RowDescription comes with the rows
            out.data += codec.row_description(_descriptions(columns, []))
        binary = [_format_for(formats, i) == 1 for i in range(len(columns))]
        if outcome.live:
            self.flush_live(out)
        count = 0
        for row in rows:
            if self.cancel_requested:
                self.cancel_requested = False
                raise Cancelled()
            values = [
                types.encode(value, oid, binary[i], name)
                for i, (value, (name, oid)) in enumerate(zip(row, columns, strict=False))
            ]
            out.data += codec.data_row(values)
            count += 1
            if self.on_flush is not None and (outcome.live or len(out.data) > 65536):
                self.on_flush(bytes(out.data))
                out.data.clear()
            if limit > 0 and count >= limit:
                return False
        prefix = outcome.row_count_tag or "SELECT"
        # The rows of this Execute (after PortalSuspended too), as PostgreSQL counts them.
        out.data += codec.command_complete(f"{prefix} {count}")
        return True

    def flush_live(self, out: Output) -> None:
        """Hand what is ready to the connection (used while a live query waits for events)."""
        if self.on_flush is not None and out.data:
            self.on_flush(bytes(out.data))
            out.data.clear()


def _project(
    rows: Iterator[Sequence[Any]], have: list[str], want: list[str]
) -> Iterator[Sequence[Any]]:
    """Rows reordered to the columns Describe announced (a column not produced is NULL): the
    client decodes by the RowDescription it was given."""
    where = {name: index for index, name in enumerate(have)}
    for row in rows:
        yield tuple(row[where[name]] if name in where else None for name in want)


def _format_for(formats: list[int], index: int) -> int:
    if not formats:
        return 0
    if len(formats) == 1:
        return formats[0]
    return formats[index] if index < len(formats) else 0


def _descriptions(fields: Sequence[tuple[str, int]], formats: list[int]) -> list[FieldDescription]:
    return [
        FieldDescription(name, oid, types.type_size(oid), -1, _format_for(formats, i))
        for i, (name, oid) in enumerate(fields)
    ]
