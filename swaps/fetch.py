"""Fetch a user-supplied image URL without letting it be turned against our network (SSRF).

Pure module: no Django. The rules, in the order they bite:

* only http/https, only `FetchPolicy.allowed_ports` (80/443 in production - tests widen it
  to reach an ephemeral local port; production code must never change it), no userinfo,
  no odd numeric host spellings ("2130706433", "0177.1", "127.1"): those are refused
  outright rather than normalised, because every URL parser normalises them differently;
* every address the name resolves to must pass `address_allowed` (default: is_public_address);
  one bad address refuses the whole URL, so DNS answers mixing public and private fail;
* we connect to the exact address we checked (no second lookup, so no DNS rebinding),
  send Host/SNI/certificate checks for the *name*, and re-apply all rules on each redirect;
* one wall-clock deadline covers DNS, connect, TLS, every redirect and the body. A watchdog
  shuts the socket down at the deadline, so a server dripping one byte per second cannot
  stretch it (per-read socket timeouts alone would let it);
* the body is streamed and cut off past max_bytes. That raises ImageInputError
  ("image_too_large") from swaps.imaging rather than UrlError, so the API answers 413 exactly
  as it does for an oversize upload.

Response bytes are never logged.
"""

from __future__ import annotations

import functools
import http.client
import ipaddress
import logging
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import certifi  # installed with requests; a slim OS image may have no CA store of its own

from swaps.imaging import ImageInputError

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlError(Exception):
    """`code` is "url_not_allowed" (policy refusal) or "url_fetch_failed" (network/HTTP)."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}


def _not_allowed(reason: str) -> UrlError:
    return UrlError("url_not_allowed", "This image URL is not allowed.", {"reason": reason})


def _failed(reason: str, **extra: Any) -> UrlError:
    details = {"reason": reason, **extra}
    return UrlError("url_fetch_failed", "The image URL could not be fetched.", details)


# --------------------------------------------------------------------------- addresses

_V4_BLOCKED = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
        "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    )
)  # fmt: skip
_V6_BLOCKED = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::/96",  # unspecified, loopback, deprecated IPv4-compatible: never a real peer
        "::ffff:0:0:0/96",  # IPv4-translated (SIIT)
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64", "2001::/23", "2001:db8::/32", "3fff::/20", "5f00::/16",
        "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
    )
)  # fmt: skip
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _embedded_ipv4(addr: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address] | None:
    """IPv4 addresses an IPv6 address would actually deliver to, for transition forms."""
    if addr.ipv4_mapped is not None:
        return [addr.ipv4_mapped]
    if addr in _NAT64:  # well-known prefix: the low 32 bits are the IPv4 destination
        return [ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)]
    if addr.sixtofour is not None:
        return [addr.sixtofour]
    if addr.teredo is not None:
        return list(addr.teredo)  # (server, client)
    return None


def _v4_public(addr: ipaddress.IPv4Address) -> bool:
    # Python's is_global moves between releases; our explicit table is the floor.
    return addr.is_global and not any(addr in net for net in _V4_BLOCKED)


def is_public_address(addr: IPAddress | str) -> bool:
    """True only for globally routable unicast addresses, checking embedded IPv4 too."""
    if isinstance(addr, str):
        addr = ipaddress.ip_address(addr)
    if isinstance(addr, ipaddress.IPv4Address):
        return _v4_public(addr)
    if any(addr in net for net in _V6_BLOCKED):
        return False
    embedded = _embedded_ipv4(addr)
    if embedded is not None:
        return all(_v4_public(v4) for v4 in embedded)
    return addr.is_global


def default_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class FetchPolicy:
    max_bytes: int
    timeout_s: float  # total wall time: DNS + connect + TLS + redirects + body
    max_redirects: int = 3
    resolver: Callable[[str, int], list[str]] = default_resolver
    address_allowed: Callable[[IPAddress], bool] = is_public_address
    allowed_ports: frozenset[int] = frozenset({80, 443})  # tests only may widen this
    ca_file: str | None = None  # None: certifi's bundle


# --------------------------------------------------------------------------- URL rules

_BAD_URL_CHARS = re.compile(r"[\x00-\x20\x7f\\]")
_HOST_CHARS = re.compile(r"[a-z0-9_.-]+")
_NUMERIC_LABEL = re.compile(r"0x[0-9a-f]*|[0-9]+")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_MAX_URL_LENGTH = 4096


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # ASCII (IDNA) name or IP literal, used for Host, SNI and certificate checks
    port: int
    path: str  # request target: path + query, ASCII
    literal: IPAddress | None

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == _DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def _normalise_host(host: str) -> tuple[str, IPAddress | None]:
    if "%" in host:  # IPv6 zone ids and percent-encoded names: never legitimate here
        raise _not_allowed("bad_host")
    if ":" in host:  # urlsplit has already removed the IPv6 brackets
        try:
            return host, ipaddress.IPv6Address(host)
        except ValueError:
            raise _not_allowed("bad_host") from None
    try:  # IDNA also folds full-width digits etc., so run the numeric checks after it
        name = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise _not_allowed("bad_host") from None
    if not _HOST_CHARS.fullmatch(name) or ".." in name or name.startswith("."):
        raise _not_allowed("bad_host")
    with suppress(ValueError):
        return name, ipaddress.IPv4Address(name)  # only canonical dotted quads parse
    if _NUMERIC_LABEL.fullmatch(name.rstrip(".").rsplit(".", 1)[-1]):
        raise _not_allowed("numeric_host")  # inet_aton-style spellings of an IPv4 address
    return name, None


def _parse_url(url: str, policy: FetchPolicy) -> Target:
    if not isinstance(url, str) or len(url) > _MAX_URL_LENGTH or _BAD_URL_CHARS.search(url):
        raise _not_allowed("bad_url")
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        raise _not_allowed("bad_url") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise _not_allowed("scheme")
    if "@" in parts.netloc:
        raise _not_allowed("userinfo")
    if not parts.hostname:
        raise _not_allowed("no_host")
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError:
        raise _not_allowed("port") from None
    if port not in policy.allowed_ports:
        raise _not_allowed("port")
    host, literal = _normalise_host(parts.hostname)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    path = quote(path, safe="/?&=%:@!$'()*+,;-._~[]")  # non-ASCII -> UTF-8 escapes
    return Target(scheme, host, port, path, literal)


# --------------------------------------------------------------------------- resolution


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise _failed("timeout")
        return left


def _run_resolver(policy: FetchPolicy, host: str, port: int, deadline: _Deadline) -> list[str]:
    # getaddrinfo cannot be interrupted; a daemon thread lets a slow DNS server cost us
    # the deadline rather than the resolver's own (much longer) retry schedule.
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = policy.resolver(host, port)
        except Exception as exc:  # any resolver failure is a DNS failure
            box["error"] = exc

    thread = threading.Thread(target=run, name="fetch-dns", daemon=True)
    thread.start()
    thread.join(deadline.remaining())
    if thread.is_alive():
        raise _failed("timeout")
    if "error" in box or not box.get("result"):
        raise _failed("dns")
    return box["result"]


def _resolve(target: Target, policy: FetchPolicy, deadline: _Deadline) -> list[IPAddress]:
    if target.literal is not None:
        addrs = [target.literal]
    else:
        try:
            raw = _run_resolver(policy, target.host, target.port, deadline)
            addrs = [ipaddress.ip_address(a) for a in raw]
        except ValueError:
            raise _failed("dns") from None
    if not all(policy.address_allowed(a) for a in addrs):
        raise _not_allowed("address_not_public")  # the address itself is not echoed back
    return addrs


# --------------------------------------------------------------------------- HTTP exchange

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024


@functools.lru_cache(maxsize=4)
def _tls_context(ca_file: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca_file or certifi.where())
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _connect(addrs: list[IPAddress], port: int, deadline: _Deadline) -> socket.socket:
    error: OSError | None = None
    for addr in addrs:  # every one of them passed the address check
        try:
            return socket.create_connection((str(addr), port), timeout=deadline.remaining())
        except OSError as exc:
            error = exc
    raise _failed("timeout" if isinstance(error, TimeoutError) else "connect")


@contextmanager
def _watchdog(sock: socket.socket, deadline: _Deadline) -> Iterator[threading.Event]:
    # A dup'd descriptor survives the TLS wrap (which detaches the original object), and
    # shutdown() on it wakes whatever recv/send/handshake is blocked on the connection.
    seconds = deadline.remaining()
    spare = sock.dup()
    fired = threading.Event()

    def fire() -> None:
        fired.set()
        with suppress(OSError):
            spare.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield fired
    finally:
        timer.cancel()
        spare.close()


def _read_body(resp: http.client.HTTPResponse, policy: FetchPolicy, image: str | None) -> bytes:
    declared = (resp.getheader("Content-Length") or "").strip()
    if declared.isdigit() and int(declared) > policy.max_bytes:
        raise _too_large(policy, image)  # honest header: refuse without reading
    chunks: list[bytes] = []
    total = 0
    while chunk := resp.read1(_CHUNK):  # read1: one recv at a time, so we stop promptly
        total += len(chunk)
        if total > policy.max_bytes:
            raise _too_large(policy, image)
        chunks.append(chunk)
    if resp.length:  # connection closed before Content-Length bytes arrived
        raise _failed("truncated")
    return b"".join(chunks)


def _too_large(policy: FetchPolicy, image: str | None) -> ImageInputError:
    details: dict[str, Any] = {"reason": "too_large", "max_bytes": policy.max_bytes}
    if image is not None:
        details["image"] = image
    return ImageInputError("image_too_large", "The image at this URL is too large.", details)


def _exchange(
    conn: http.client.HTTPConnection, target: Target, policy: FetchPolicy, image: str | None
) -> bytes | str:
    """One GET: the body for 2xx, the Location for a redirect."""
    headers = {
        "Host": target.host_header,
        "User-Agent": "FaceSwap-ImageFetcher/1.0",
        "Accept": "image/jpeg, image/png, image/webp, image/gif, image/*;q=0.8",
        "Accept-Encoding": "identity",  # we never decompress, so never invite compression
        "Connection": "close",
    }
    conn.request("GET", target.path, headers=headers)
    resp = conn.getresponse()
    if resp.status in _REDIRECTS:
        location = resp.getheader("Location")
        if not location:
            raise _failed("redirect_without_location", status=resp.status)
        return location
    if not 200 <= resp.status < 300:
        raise _failed("http_status", status=resp.status)
    return _read_body(resp, policy, image)


@contextmanager
def _pinned(target: Target, policy: FetchPolicy, deadline: _Deadline
            ) -> Iterator[http.client.HTTPConnection]:
    """Connected to a checked address of target's host; errors in the block -> UrlError."""
    sock = _connect(_resolve(target, policy, deadline), target.port, deadline)
    conn = http.client.HTTPConnection(target.host, target.port)
    try:
        with _watchdog(sock, deadline) as fired:
            try:
                if target.scheme == "https":
                    context = _tls_context(policy.ca_file)
                    sock = context.wrap_socket(sock, server_hostname=target.host)
                conn.sock = sock  # http.client only connects itself when sock is None
                yield conn
            except (OSError, http.client.HTTPException, ValueError) as exc:
                raise _failed("timeout" if fired.is_set() else _reason(exc)) from None
            except UrlError:  # e.g. "truncated" because the watchdog cut the body short
                if fired.is_set():
                    raise _failed("timeout") from None
                raise
            if fired.is_set():  # shutdown can look like a clean EOF mid-body
                raise _failed("timeout")
    finally:
        conn.close()
        sock.close()


def _fetch_once(
    target: Target, policy: FetchPolicy, deadline: _Deadline, image: str | None
) -> bytes | str:
    with _pinned(target, policy, deadline) as conn:
        return _exchange(conn, target, policy, image)


def _reason(exc: Exception) -> str:
    if isinstance(exc, ssl.SSLError):
        return "tls"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, http.client.HTTPException | ValueError):
        return "protocol"
    return "connect"


def fetch_url(url: str, *, policy: FetchPolicy, image: str | None = None) -> bytes:
    """GET `url` under `policy`; UrlError or ImageInputError("image_too_large") on refusal.

    `image` (optional) only names the field in ImageInputError details.
    """
    deadline = _Deadline(policy.timeout_s)
    host = "?"
    try:
        for _ in range(policy.max_redirects + 1):
            target = _parse_url(url, policy)
            host = target.host
            result = _fetch_once(target, policy, deadline, image)
            if isinstance(result, bytes):
                return result
            url = urljoin(url, result)
        raise _failed("too_many_redirects", max_redirects=policy.max_redirects)
    except UrlError as exc:
        # Host and reason only: query strings can carry users' tokens.
        reason = exc.details.get("reason")
        logger.info("image fetch refused host=%s code=%s reason=%s", host, exc.code, reason)
        raise


# --------------------------------------------------------------------------- other requests


def check_url(url: str, policy: FetchPolicy) -> Target:
    """The rules that need no DNS (for URLs kept for later; pinned_connection rechecks all)."""
    target = _parse_url(url, policy)
    if target.literal is not None and not policy.address_allowed(target.literal):
        raise _not_allowed("address_not_public")
    return target


@contextmanager
def pinned_connection(
    url: str, policy: FetchPolicy
) -> Iterator[tuple[http.client.HTTPConnection, Target]]:
    """One request to `url` under fetch_url's rules and deadline, sent by the caller (with
    target.host_header and target.path); redirects are the caller's business."""
    target = _parse_url(url, policy)
    with _pinned(target, policy, _Deadline(policy.timeout_s)) as conn:
        yield conn, target
