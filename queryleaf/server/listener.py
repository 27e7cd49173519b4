"""The socket loop: a thread per connection, reading requests with the wire `Decoder`, running
them on the engine and writing the replies. A connection whose bytes cannot be read is closed
with a logged reason; the server keeps serving every other one."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from typing import Any

import bson

from . import wire
from .engine import Engine
from .errors import error_reply

log = logging.getLogger("queryleaf.server")

MAX_CONNECTIONS = 1000
_RECV = 256 * 1024


class Listener:
    def __init__(
        self, engine: Engine, host: str, port: int, *, max_size: int = wire.MAX_MESSAGE_SIZE
    ):
        self.engine = engine
        self.max_size = max_size
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.create_server((host, port), family=family, backlog=128)
        self.host, self.port = self._socket.getsockname()[:2]
        self._stopping = threading.Event()
        self._threads: set[threading.Thread] = set()
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._next_request = 0
        self._accepter: threading.Thread | None = None

    def start(self) -> None:
        self._accepter = threading.Thread(target=self._accept, name="ql-accept", daemon=True)
        self._accepter.start()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, address = self._socket.accept()
            except OSError:
                if self._stopping.is_set():
                    return
                continue
            with self._lock:
                if len(self._connections) >= MAX_CONNECTIONS:
                    log.warning("refusing a connection from %s: %d open", address, MAX_CONNECTIONS)
                    sock.close()
                    continue
                self._connections.add(sock)
            peer = f"{address[0]}:{address[1]}"
            thread = threading.Thread(
                target=self._serve, args=(sock, peer), name=f"ql-conn-{peer}", daemon=True
            )
            thread.start()

    def _request_id(self) -> int:
        with self._lock:
            self._next_request = (self._next_request + 1) & 0x7FFFFFFF
            return self._next_request

    def _serve(self, sock: socket.socket, peer: str) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = self.engine.connect(peer)
        decoder = wire.Decoder(self.max_size)
        try:
            while not self._stopping.is_set():
                data = sock.recv(_RECV)
                if not data:
                    return
                decoder.feed(data)
                while (request := decoder.next()) is not None:
                    reply = self.engine.execute(request.command, request.database, conn)
                    if request.more_to_come:
                        continue
                    sock.sendall(self._encode(request, reply))
        except wire.ProtocolError as error:
            log.warning("closing connection %d from %s: %s", conn.id, peer, error)
        except OSError:
            pass  # the client went away
        except Exception:
            log.exception("closing connection %d from %s after an internal error", conn.id, peer)
        finally:
            with self._lock:
                self._connections.discard(sock)
            try:
                sock.close()
            finally:
                self.engine.disconnect(conn)

    def _encode(self, request: wire.Request, reply: dict[str, Any]) -> bytes:
        encode = wire.encode_reply if request.op_code == wire.OP_QUERY else wire.encode_msg
        try:
            return encode(self._request_id(), request.request_id, reply)
        except (bson.errors.InvalidDocument, OverflowError, TypeError, ValueError) as error:
            log.warning(
                "reply to %s could not be encoded: %s", next(iter(request.command), ""), error
            )
            failure = error_reply(1, f"the reply could not be encoded as BSON: {error}")
            return encode(self._request_id(), request.request_id, failure)

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._socket.close()
        with self._lock:
            connections = list(self._connections)
        for sock in connections:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
