"""Which push endpoints the server may call, checked where the URL is stored and again at
every connection.

A push subscription's endpoint is a URL a browser hands us, and the worker posts to it.
Unchecked, it would let anyone make the server call into its own network
(``https://127.1/``, ``https://0x7f.0.0.1/``, an internal name that resolves to
10.0.0.5). So:

1. When stored: ``https``, port 443, no user name or password, a host that is a name
   (not an IP address in any notation) and that ends in one of the push services'
   suffixes (``FOLGE_PUSH_HOSTS``; by default the big browsers' services).
2. When sent: every address the name resolves to must be public, and the socket the
   request actually uses is checked again after it connects (``PublicOnlySession``), so
   a DNS answer that changes between the check and the connection gains nothing.
   Loopback, private, link-local, CGNAT, multicast, reserved, unspecified,
   documentation and IPv4-mapped or -embedded IPv6 addresses are refused.

Tests reach a local receiver with ``Config.push_allow_loopback`` (never set from the
environment): it allows loopback addresses and plain http, nothing else.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

#: IPv6 ranges that carry an IPv4 address inside (NAT64, 6to4, Teredo): refused, since the
#: address inside may be a private one.
_EMBEDDING_V4 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"),
                 ipaddress.ip_network("2002::/16"), ipaddress.ip_network("2001::/32"))
#: A label made only of digits, or hex with 0x: with one, a host can be read as an IPv4
#: address by inet_aton ("127.1", "0177.0.0.1", "0x7f.1", "2130706433").
_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)", re.IGNORECASE)
#: A DNS host name (letters, digits, hyphens; labels up to 63 characters).
_HOST_NAME = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


class BlockedAddress(Exception):
    """The push service's address is not a public one; nothing was sent."""


def is_ip_literal(host: str) -> bool:
    """True when ``host`` is, or could be read as, an IP address in any notation."""
    host = host.strip("[]").rstrip(".")
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        socket.inet_aton(host)
        return True
    except OSError:
        pass
    return any(_NUMERIC_LABEL.fullmatch(label) for label in host.split("."))


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast address (never loopback, private, link-local,
    CGNAT, multicast, reserved, unspecified, or IPv6 carrying an IPv4 address)."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None or ip.sixtofour is not None or ip.teredo is not None \
                or any(ip in net for net in _EMBEDDING_V4):
            return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or
                                 ip.is_link_local or ip.is_private or ip.is_unspecified)


def _allowed_address(address: str, allow_loopback: bool) -> bool:
    if allow_loopback:
        try:
            if ipaddress.ip_address(address.split("%")[0]).is_loopback:
                return True
        except ValueError:
            return False
    return is_public_address(address)


def endpoint_allowed(endpoint: str, push_hosts: tuple[str, ...], allow_loopback: bool = False) -> bool:
    """May a subscription with this endpoint be stored? (Rule 1 in the module text.)"""
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if allow_loopback and host in ("127.0.0.1", "localhost", "::1"):
        return parts.scheme in ("http", "https")
    if parts.scheme != "https" or parts.username is not None or parts.password is not None:
        return False
    if port not in (None, 443) or is_ip_literal(host) or not _HOST_NAME.fullmatch(host):
        return False
    return any(host == suffix or host.endswith("." + suffix) for suffix in push_hosts)


def check_resolves_publicly(endpoint: str, allow_loopback: bool = False) -> None:
    """Resolve the endpoint's host now; raise BlockedAddress unless every address is allowed."""
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    try:
        answers = socket.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise requests.exceptions.ConnectionError(f"cannot resolve the push host: {exc}") from exc
    addresses = {str(info[4][0]) for info in answers}
    if not addresses or not all(_allowed_address(a, allow_loopback) for a in addresses):
        raise BlockedAddress("the push host resolves to an address that is not public")


def _checked(sock: socket.socket, allow_loopback: bool) -> socket.socket:
    peer = str(sock.getpeername()[0])
    if not _allowed_address(peer, allow_loopback):
        sock.close()
        raise BlockedAddress("the push connection reached an address that is not public")
    return sock


class _CheckedHTTPConnection(HTTPConnection):
    allow_loopback = False

    def _new_conn(self) -> socket.socket:
        return _checked(super()._new_conn(), self.allow_loopback)


class _CheckedHTTPSConnection(HTTPSConnection):
    allow_loopback = False

    def _new_conn(self) -> socket.socket:
        return _checked(super()._new_conn(), self.allow_loopback)


class _PublicOnlyAdapter(HTTPAdapter):
    """A transport adapter whose connections check their peer's address once connected."""

    def __init__(self, allow_loopback: bool) -> None:
        self._allow_loopback = allow_loopback
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        http = type("_Http", (_CheckedHTTPConnection,), {"allow_loopback": self._allow_loopback})
        https = type("_Https", (_CheckedHTTPSConnection,), {"allow_loopback": self._allow_loopback})
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("_HttpPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
            "https": type("_HttpsPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
        }


def public_only_session(allow_loopback: bool = False) -> requests.Session:
    """A requests session that connects only to allowed addresses and ignores proxy
    settings from the environment (a proxy would hide the real peer)."""
    session = requests.Session()
    session.trust_env = False
    adapter = _PublicOnlyAdapter(allow_loopback)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
