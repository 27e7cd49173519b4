"""The PostgreSQL-protocol server: a thin asyncio loop around `Session` (bytes in, bytes out).
Statements run in worker threads; notifications are written while a connection is idle.

>>> server = PgServer(port=0).start()     # embedded engine, 127.0.0.1, trust
>>> server.port > 0
True
>>> server.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import ssl
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from queryleaf.errors import BackendError
from queryleaf.pgwire import codec, scram
from queryleaf.pgwire.backend import QueryBackend, Shared
from queryleaf.pgwire.session import AuthConfig, Session

READ_SIZE = 65536
# Bytes a client may send ahead while one of its statements runs (read to notice a hang-up).
READ_AHEAD = 16 * READ_SIZE


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class PgServer:
    """Serve queryleaf over PostgreSQL's protocol v3.

    `connect` returns the queryleaf Connection every session shares the database of (default:
    a fresh embedded engine). `auth` maps user names to passwords (SCRAM-SHA-256); without it
    clients are trusted, which is allowed only on a loopback address. `tls` is an
    `ssl.SSLContext` or a (certificate, key) pair of file names. A client must finish
    authenticating within `auth_timeout` seconds of connecting."""

    def __init__(
        self,
        connect: Callable[[], Any] | None = None,
        host: str = "127.0.0.1",
        port: int = 5433,
        auth: dict[str, str] | None = None,
        tls: ssl.SSLContext | tuple[str, str] | None = None,
        read_only: bool = False,
        max_connections: int = 64,
        idle_timeout: float | None = 3600.0,
        live_timeout: float | None = None,
        auth_timeout: float = 60.0,
    ) -> None:
        if auth is None and not is_loopback(host):
            raise BackendError(
                f"refusing to serve {host} without authentication",
                hint="give users with --pg-user NAME:PASSWORD (SCRAM-SHA-256), or bind 127.0.0.1",
                code="QL604",
            )
        self.host = host
        self.port = port
        self._connect = connect
        self.auth = AuthConfig(
            None if auth is None else {u: scram.Verifier.from_password(p) for u, p in auth.items()}
        )
        if isinstance(tls, tuple):
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(tls[0], tls[1])
            tls = context
        self.tls = tls
        self.read_only = read_only
        self.max_connections = max_connections
        self.idle_timeout = idle_timeout
        self.live_timeout = live_timeout
        self.auth_timeout = auth_timeout
        # Statements run here, one thread per busy client: asyncio's default pool is a few
        # threads, and a live query holds its thread until LIMIT, cancel or hang-up.
        self._executor = ThreadPoolExecutor(
            max_workers=max_connections + 2, thread_name_prefix="queryleaf-pgwire-statement"
        )
        self.sessions: dict[int, Session] = {}
        self._open = 0  # sockets open, authenticated or not (touched only on the loop)
        self.shared: Shared | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._owns_connection = connect is None

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> PgServer:
        """Listen in a daemon thread; returns once the port is bound (`self.port`)."""
        self._open_shared()
        self._thread = threading.Thread(target=self._run, name="queryleaf-pgwire", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise self._error
        return self

    def serve_forever(self) -> None:
        """Listen in this thread until stop() or Ctrl-C."""
        self._open_shared()
        self._run()

    def _open_shared(self) -> None:
        from queryleaf.pgwire.catalog import Catalog
        from queryleaf.pgwire.listen import ListenHub

        if self._connect is None:
            import queryleaf

            base = queryleaf.connect()
        else:
            base = self._connect()
        self.shared = Shared(base, read_only=self.read_only, live_timeout=self.live_timeout)
        self.shared.catalog = Catalog(base.db)
        self.shared.listeners = ListenHub(self.shared)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._server = loop.run_until_complete(
                asyncio.start_server(self._client, self.host, self.port, limit=READ_SIZE)
            )
            self.port = self._server.sockets[0].getsockname()[1]
        except BaseException as error:
            self._error = error
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def stop(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():

            async def shutdown() -> None:
                if self._server is not None:
                    self._server.close()
                tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
                for task in tasks:
                    task.cancel()
                await asyncio.wait(tasks, timeout=5) if tasks else None
                loop.stop()

            with contextlib.suppress(RuntimeError):
                asyncio.run_coroutine_threadsafe(shutdown(), loop)
        if self._thread is not None:
            self._thread.join(10)
        for session in list(self.sessions.values()):
            session.disconnected = True  # live queries still running end at their next poll
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self.shared is not None:
            self.shared.listeners.close()
            self.shared.catalog.close()
            if self._owns_connection:
                self.shared.base.close()

    def __enter__(self) -> PgServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- one client -------------------------------------------------------------------------

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        shared = self.shared
        assert shared is not None
        if self._open >= 2 * self.max_connections:  # unauthenticated clients count too
            writer.close()
            return
        self._open += 1
        session = Session(
            lambda s: QueryBackend(shared, s), self.auth, tls_available=self.tls is not None
        )
        session.on_flush = lambda data: loop.call_soon_threadsafe(writer.write, data)
        session.notify = lambda data: loop.call_soon_threadsafe(writer.write, data)
        registered = False
        auth_deadline = loop.time() + self.auth_timeout
        pending = b""  # read while a statement ran
        try:
            while True:
                if pending:
                    data, pending = pending, b""
                else:
                    if session.authenticated:
                        timeout = self.idle_timeout
                    else:  # the whole authentication, not each read, has a deadline
                        timeout = max(0.0, auth_deadline - loop.time())
                    try:
                        data = await asyncio.wait_for(reader.read(READ_SIZE), timeout)
                    except TimeoutError:
                        writer.write(_timeout_error(session.authenticated))
                        break
                if not data:
                    break
                if session.authenticated:
                    out, pending = await self._statements(session, data, reader)
                    if pending is None:
                        break  # the client hung up while its statement ran
                else:
                    out = session.receive(data)
                    if session.authenticated and not registered:
                        if len(self.sessions) >= self.max_connections:
                            writer.write(
                                codec.error_response(
                                    {
                                        "S": "FATAL",
                                        "V": "FATAL",
                                        "C": "53300",
                                        "M": "sorry, too many clients already",
                                    }
                                )
                            )
                            break
                        self.sessions[session.pid] = session
                        registered = True
                writer.write(bytes(out.data))
                await writer.drain()
                if out.cancel is not None:
                    self._cancel(*out.cancel)
                if out.start_tls:
                    assert self.tls is not None
                    await writer.start_tls(self.tls)
                if out.close:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        except asyncio.CancelledError:
            pass  # the server is stopping
        finally:
            session.disconnected = True  # a statement still running stops at its next check
            self._open -= 1
            if registered:
                self.sessions.pop(session.pid, None)
            if session.backend is not None:
                session.backend.close()  # type: ignore[attr-defined]
            with contextlib.suppress(Exception):
                writer.close()

    async def _statements(
        self, session: Session, data: bytes, reader: asyncio.StreamReader
    ) -> tuple[Any, bytes | None]:
        """Run `data` in a worker thread while reading what the client sends meanwhile: the
        bytes read ahead, or None when the client hung up (its statement was told to stop:
        a live query would otherwise poll for a closed socket until the server stops)."""
        loop = asyncio.get_running_loop()
        work = loop.run_in_executor(self._executor, session.receive, data)
        ahead = bytearray()
        while not work.done() and len(ahead) < READ_AHEAD:
            read = asyncio.ensure_future(reader.read(READ_SIZE))
            await asyncio.wait({work, read}, return_when=asyncio.FIRST_COMPLETED)
            if not read.done():
                read.cancel()  # nothing was taken from the stream: it stays for the next read
                with contextlib.suppress(asyncio.CancelledError):
                    await read
                break
            chunk = read.result()
            if not chunk:
                session.disconnected = True
                await work
                return work.result(), None
            ahead += chunk
        return await work, bytes(ahead)

    def _cancel(self, pid: int, secret: int) -> None:
        target = self.sessions.get(pid)
        if target is not None and target.secret == secret:
            target.cancel_requested = True


def _timeout_error(authenticated: bool) -> bytes:
    if authenticated:
        state, text = "57P05", "terminating connection due to idle timeout"
    else:
        state, text = "57014", "canceling authentication due to timeout"
    return codec.error_response({"S": "FATAL", "V": "FATAL", "C": state, "M": text})
