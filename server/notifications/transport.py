"""The HTTP requests to push services: only to public hosts, and never longer than the timeout in all.

A subscription's endpoint is a URL the browser hands us, so whoever subscribes chooses where the server
connects. An endpoint must be `https` on port 443 of a host that is public: an address literal must be a public
address, a name must look like one on the internet, and when we send, every address the name resolves to must be
public; we then connect to the address we checked (a second lookup could answer differently), with TLS verified
against the name. PUSH_ALLOWED_HOSTS names hosts (`host` or `host:port`) let through anyway, over plain http too:
a local push service in tests.

`PUSH_TIMEOUT_SECONDS` bounds the whole request (lookup, connect, TLS, sending, the whole answer), not each read:
a push service that dribbles its answer a byte at a time is cut off when the time is up, by a timer that shuts
the socket down under the reading thread."""

from __future__ import annotations

import http.client
import ipaddress
import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import suppress
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urlsplit

HTTPS_PORT = 443
ANSWER_LIMIT = 64 * 1024  # a push service's answer is a status and a short text; more is not read
IDLE_SECONDS = 60.0  # a kept connection older than this is not used again
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")  # a DNS label (urlsplit lowercases the host)
_NAMES_NEVER_PUBLIC = ("localhost", ".localhost", ".local", ".internal", ".arpa", ".localdomain", ".home")


class EndpointRefused(Exception):
    """The endpoint names a host we do not connect to; the message says why (never the whole URL)."""


class PushTimeout(TimeoutError):
    """The push service did not answer in full within the timeout."""


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_public(address: Address) -> bool:
    """Whether an address is one on the public internet: not loopback, private, link-local, shared (CGNAT),
    multicast, reserved or unspecified, also when an IPv4 address is wrapped in an IPv6 one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is None and address in ipaddress.IPv6Network("64:ff9b::/96"):  # NAT64 of an IPv4 address
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and not is_public(embedded):
            return False
    return address.is_global and not (address.is_multicast or address.is_private or address.is_loopback
                                      or address.is_link_local or address.is_reserved or address.is_unspecified)


def parse_allowed_hosts(entries: Iterable[str]) -> frozenset[tuple[str, int | None]]:
    """PUSH_ALLOWED_HOSTS entries as (host, port or None for any port)."""
    allowed = set()
    for entry in entries:
        parts = urlsplit(f"//{entry.strip()}")
        if parts.hostname:
            allowed.add((parts.hostname.rstrip("."), parts.port))
    return frozenset(allowed)


def _address_literal(host: str) -> Address | None:
    """The address a host names by itself: IPv4 and IPv6 literals, and the old IPv4 forms that resolvers still
    read as addresses ('2130706433', '0x7f.1', '127.1')."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    allowed: bool  # listed in PUSH_ALLOWED_HOSTS: no address check


def _plain_host(host: str) -> bool:
    """A host as a browser writes it in an endpoint: an IPv6 literal, or ASCII labels of letters, digits and inner
    hyphens (IDN already in its xn-- form). Anything else (full-width or other digits and letters, ideographic
    dots, percent-escapes, empty labels) a resolver or an HTTP library may read as another host than we checked."""
    if ":" in host:
        try:
            return isinstance(ipaddress.ip_address(host), ipaddress.IPv6Address)
        except ValueError:
            return False
    return len(host) <= 253 and all(_LABEL.fullmatch(label) for label in host.split("."))


def check_endpoint(url: str, allowed_hosts: frozenset[tuple[str, int | None]] = frozenset()) -> Target:
    """Where a push endpoint points, or EndpointRefused: what can be told without looking the name up. The one check
    of an endpoint, when a page subscribes (service.check_subscription) and again when sending (push.Sender and
    PushTransport.post, before the name is looked up)."""
    if not (url.isascii() and url.isprintable()) or " " in url:
        raise EndpointRefused("endpoint is not a plain ASCII URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise EndpointRefused("endpoint is not a URL") from exc
    host = (parts.hostname or "").rstrip(".")
    if not host or parts.scheme not in ("https", "http"):
        raise EndpointRefused("endpoint must be an https URL")
    if not _plain_host(host):
        raise EndpointRefused("endpoint host is not a plain host name")
    port = port or (HTTPS_PORT if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if (host, port) in allowed_hosts or (host, None) in allowed_hosts:
        return Target(parts.scheme, host, port, path, allowed=True)
    if parts.scheme != "https":
        raise EndpointRefused("endpoint must be an https URL")
    if port != HTTPS_PORT:
        raise EndpointRefused("endpoint must use the https port")
    literal = _address_literal(host)
    if literal is not None:
        if not is_public(literal):
            raise EndpointRefused("endpoint address is not public")
    elif "." not in host or host.endswith(_NAMES_NEVER_PUBLIC) or host == "localhost":
        raise EndpointRefused("endpoint host is not public")
    return Target(parts.scheme, host, port, path, allowed=False)


def _lookup(host: str, port: int) -> list[str]:
    return list(dict.fromkeys(str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)))


@dataclass
class Answer:
    """What requests' Response offers the Sender: status, headers (case-insensitive), reason, text."""

    status_code: int
    headers: Message
    reason: str
    text: str


class _Watchdog:
    """Shuts the socket down when the time is up, so that whatever the sending thread is blocked in (a TLS
    handshake, a read of a dribbled answer) returns at once."""

    def __init__(self, seconds: float) -> None:
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self.fired = False
        self._done = False
        self._timer = threading.Timer(max(0.0, seconds), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sock = sock
            if self.fired:
                self._shut(sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        # socket.socket's own shutdown, also for an SSLSocket: close the connection under the TLS layer.
        with suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
            if self._sock is not None:
                self._shut(self._sock)

    def stop(self) -> bool:
        """Stops the timer; True if it had already fired."""
        self._timer.cancel()
        with self._lock:
            self._done = True
            return self.fired


@dataclass
class _Kept:
    connection: http.client.HTTPConnection
    since: float


class PushTransport:
    """`post(url, data=..., headers=..., timeout=...)` as requests' Session has it (what pywebpush calls), to
    checked addresses only and with `timeout` as the limit of the whole request. Keeps one idle connection per
    push service and origin for the next message to it."""

    def __init__(self, allowed_hosts: Iterable[str] = (), *,
                 lookup: Callable[[str, int], list[str]] = _lookup) -> None:
        self.allowed_hosts = parse_allowed_hosts(allowed_hosts)
        self.lookup = lookup
        self._tls = ssl.create_default_context()
        self._idle: dict[tuple[str, str, int], list[_Kept]] = {}
        self._lock = threading.Lock()

    def resolve(self, target: Target, deadline: float) -> list[str]:
        """The addresses to connect to, in order: for a host not listed in PUSH_ALLOWED_HOSTS, every address its
        name has must be public (a name with one private address among public ones is refused)."""
        literal = _address_literal(target.host)
        if literal is not None:
            return [str(literal)]
        # Each lookup in a thread of its own, so that a stalled resolver counts against the timeout, holds no other
        # device's lookup, and (a daemon thread) never keeps a stopping worker from exiting.
        future: Future[list[str]] = Future()

        def look_up() -> None:
            try:
                future.set_result(self.lookup(target.host, target.port))
            except (OSError, ValueError) as exc:  # handed to the waiting send, which reports it
                future.set_exception(exc)

        threading.Thread(target=look_up, name="push-dns", daemon=True).start()
        try:
            addresses = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout as exc:
            raise PushTimeout("name lookup took too long") from exc
        if not addresses:
            raise OSError("name has no address")
        if not target.allowed and not all(is_public(ipaddress.ip_address(a.split("%")[0])) for a in addresses):
            raise EndpointRefused("endpoint host resolves to an address that is not public")
        return addresses

    def open(self, address: str, port: int, timeout: float) -> socket.socket:
        return socket.create_connection((address, port), timeout=timeout)

    def _take_idle(self, key: tuple[str, str, int]) -> http.client.HTTPConnection | None:
        now = time.monotonic()
        with self._lock:
            kept = self._idle.get(key, [])
            while kept:
                item = kept.pop()
                sock = item.connection.sock
                # An idle connection that is readable has been closed by the other side (or sent junk).
                if now - item.since < IDLE_SECONDS and sock is not None and not select.select([sock], [], [], 0)[0]:
                    return item.connection
                item.connection.close()
        return None

    def _keep(self, key: tuple[str, str, int], connection: http.client.HTTPConnection) -> None:
        with self._lock:
            kept = self._idle.setdefault(key, [])
            if len(kept) < 4:
                kept.append(_Kept(connection, time.monotonic()))
                return
        connection.close()

    def post(self, url: str, data: bytes | None = None, headers: dict[str, str] | None = None,
             timeout: float | None = 10.0) -> Answer:
        seconds = float(timeout if timeout is not None else 10.0)
        deadline = time.monotonic() + seconds
        target = check_endpoint(url, self.allowed_hosts)
        key = (target.scheme, target.host, target.port)
        watchdog = _Watchdog(seconds)
        try:
            connection, response, body = self._exchange(target, key, data or b"", headers or {}, deadline, watchdog)
        except (EndpointRefused, PushTimeout):
            watchdog.stop()
            raise
        except (OSError, http.client.HTTPException) as exc:
            if watchdog.stop() or isinstance(exc, TimeoutError):
                raise PushTimeout(f"no full answer within {seconds:g} s") from exc
            raise
        if watchdog.stop() or response.will_close or not response.isclosed():
            connection.close()
        else:
            connection.sock.settimeout(None)
            self._keep(key, connection)
        return Answer(response.status, response.headers, response.reason or "",
                      body.decode("utf-8", errors="replace"))

    def _exchange(self, target: Target, key: tuple[str, str, int], data: bytes, headers: dict[str, str],
                  deadline: float, watchdog: _Watchdog) -> tuple[http.client.HTTPConnection,
                                                                 http.client.HTTPResponse, bytes]:
        """One request and its answer, on a kept connection if there is one; a kept connection the push service
        closed meanwhile (it answers nothing at all) is replaced by a new one once."""
        connection = self._take_idle(key)
        while True:
            kept = connection is not None
            if connection is None:
                connection = self._connect(target, self.resolve(target, deadline), deadline, watchdog)
            else:
                watchdog.watch(connection.sock)
            try:
                connection.sock.settimeout(max(0.001, deadline - time.monotonic()))
                connection.request("POST", target.path, body=data, headers=headers)
                response = connection.getresponse()
                return connection, response, response.read(ANSWER_LIMIT)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                connection.close()
                if not kept or watchdog.fired:
                    raise
                connection = None
            except BaseException:
                connection.close()
                raise

    def _connect(self, target: Target, addresses: list[str], deadline: float,
                 watchdog: _Watchdog) -> http.client.HTTPConnection:
        for index, address in enumerate(addresses):  # the checked addresses only, in the resolver's order
            try:
                sock = self.open(address, target.port, max(0.001, deadline - time.monotonic()))
                break
            except OSError:
                if index == len(addresses) - 1 or watchdog.fired or time.monotonic() >= deadline:
                    raise
        # As http.client's own connect() does: headers and body go in two writes, and Nagle would hold the second
        # until the first is acknowledged (a delayed ACK: some 40 ms a message).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        watchdog.watch(sock)
        if target.scheme == "https":
            try:
                # Handshake only once the watchdog holds the TLS socket (wrapping detaches the plain one).
                sock = self._tls.wrap_socket(sock, server_hostname=target.host, do_handshake_on_connect=False)
                watchdog.watch(sock)
                sock.do_handshake()
            except BaseException:
                sock.close()
                raise
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(target.host, target.port,
                                                                                  context=self._tls)
        else:
            connection = http.client.HTTPConnection(target.host, target.port)
        connection.sock = sock
        return connection
