"""Fetch a user-supplied image URL without letting it be turned against our network (SSRF).

Pure module: no Django. Every request first passes swaps.net.url_policy (which URLs, ports and
addresses may be reached); on top of that, in the order they bite:

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
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import urljoin

import certifi  # installed with requests; a slim OS image may have no CA store of its own

from swaps.imaging.errors import ImageInputError
from swaps.net.url_policy import (
    FetchPolicy,
    IPAddress,
    Target,
    UrlError,
    parse_url,
    require_allowed_addresses,
)

logger = logging.getLogger(__name__)


def _failed(reason: str, **extra: Any) -> UrlError:
    details = {"reason": reason, **extra}
    return UrlError("url_fetch_failed", "The image URL could not be fetched.", details)


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
    require_allowed_addresses(addrs, policy)
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
def _pinned(
    target: Target, policy: FetchPolicy, deadline: _Deadline
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
            target = parse_url(url, policy)
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


@contextmanager
def pinned_connection(
    url: str, policy: FetchPolicy
) -> Iterator[tuple[http.client.HTTPConnection, Target]]:
    """One request to `url` under fetch_url's rules and deadline, sent by the caller (with
    target.host_header and target.path); redirects are the caller's business."""
    target = parse_url(url, policy)
    with _pinned(target, policy, _Deadline(policy.timeout_s)) as conn:
        yield conn, target
