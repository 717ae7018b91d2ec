"""Which URLs a server-side request may reach (the SSRF policy), and what it may cost.

Pure module: no Django, no network beyond the DNS lookup `default_resolver` offers.
swaps.net.fetch applies these rules to every request and redirect; the rules:

* only http/https, only `FetchPolicy.allowed_ports` (80/443 in production - tests widen it
  to reach an ephemeral local port; production code must never change it), no userinfo,
  no odd numeric host spellings ("2130706433", "0177.1", "127.1"): those are refused
  outright rather than normalised, because every URL parser normalises them differently;
* every address the name resolves to must pass `address_allowed` (default: is_public_address);
  one bad address refuses the whole URL, so DNS answers mixing public and private fail.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from faceswap_site.codes import CodedError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlError(CodedError):
    """`code` is "url_not_allowed" (policy refusal) or "url_fetch_failed" (network/HTTP)."""


def _not_allowed(reason: str) -> UrlError:
    return UrlError("url_not_allowed", "This image URL is not allowed.", {"reason": reason})


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


def require_allowed_addresses(addrs: Iterable[IPAddress], policy: FetchPolicy) -> None:
    """Refuse unless every address passes the policy: one bad DNS answer spoils them all."""
    if not all(policy.address_allowed(a) for a in addrs):
        raise _not_allowed("address_not_public")  # the address itself is not echoed back


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


def parse_url(url: str, policy: FetchPolicy) -> Target:
    """The request target for `url`, or UrlError("url_not_allowed") if a rule refuses it."""
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


def check_url(url: str, policy: FetchPolicy) -> Target:
    """The rules that need no DNS (for URLs kept for later; pinned_connection rechecks all)."""
    target = parse_url(url, policy)
    if target.literal is not None:
        require_allowed_addresses([target.literal], policy)
    return target
