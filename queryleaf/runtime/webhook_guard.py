"""Webhook deliveries that cannot be turned against the host: redirects are not followed
(a 3xx answer is a failed delivery), and the address a webhook connects to is checked after
DNS resolution, on the very socket that is opened: loopback, private, link-local (the cloud
metadata service at 169.254.169.254 included), unique-local, multicast, reserved and
unspecified addresses are refused unless the subscription says `allow_private_network = TRUE`.

Checking the connected address (not a name looked up beforehand) leaves no window for a name
that resolves to a public address when checked and a private one when used. Proxies from the
environment (HTTP_PROXY, ...) are not used: through one, the address reached cannot be checked."""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import urllib.request
from typing import Any


class BlockedAddress(OSError):
    """The webhook's host resolves to an address the subscription may not reach."""


def is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv4 address carried in IPv6 (mapped, or 6to4's 2002::/16) is judged as IPv4.
        ip = ip.ipv4_mapped or ip.sixtofour or ip
    return (
        not ip.is_global  # shared address space (100.64.0.0/10: a cloud metadata service), ...
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local)
    )


def _connect(host: str, port: int, timeout: Any, allow_private: bool) -> socket.socket:
    """A socket to the first acceptable address of host:port."""
    last: OSError | None = None
    for family, kind, proto, _, address in socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM):
        if not allow_private and is_private(address[0]):
            last = BlockedAddress(
                f"{host} resolves to {address[0]}, a private, loopback or link-local address "
                "(set allow_private_network = TRUE on the subscription to allow it)"
            )
            continue
        sock = socket.socket(family, kind, proto)
        try:
            if timeout is not None and timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:  # type: ignore[attr-defined]
                sock.settimeout(timeout)
            sock.connect(address)
            return sock
        except OSError as error:
            sock.close()
            last = error
    raise last if last is not None else OSError(f"{host} has no address")


def _connection_classes(allow_private: bool) -> tuple[type, type]:
    class GuardedHTTP(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = _connect(self.host, self.port, self.timeout, allow_private)

    class GuardedHTTPS(http.client.HTTPSConnection):
        def connect(self) -> None:
            sock = _connect(self.host, self.port, self.timeout, allow_private)
            context = getattr(self, "_context", None) or ssl.create_default_context()
            self.sock = context.wrap_socket(sock, server_hostname=self.host)

    return GuardedHTTP, GuardedHTTPS


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx answer itself is returned as an HTTPError: a failed delivery


def opener(allow_private: bool) -> urllib.request.OpenerDirector:
    """A urllib opener that follows no redirect and checks every connected address."""
    plain, secure = _connection_classes(allow_private)

    class Handler(urllib.request.HTTPHandler):
        def http_open(self, request: Any) -> Any:
            return self.do_open(plain, request)

    class SecureHandler(urllib.request.HTTPSHandler):
        def https_open(self, request: Any) -> Any:
            return self.do_open(secure, request)

    # No proxy from the environment: through a proxy the address reached could not be checked.
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}), Handler(), SecureHandler(), _NoRedirects()
    )
