"""swaps.net.fetch and url_policy: SSRF rules, pinned connections, redirects, size and time caps.

The server here is a real listener on 127.0.0.1 that records every accepted connection, so
"refused" means "no packet ever reached it", not just "an exception was raised".
"""

from __future__ import annotations

import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from swaps.imaging.errors import ImageInputError
from swaps.net import fetch, url_policy
from swaps.net.fetch import fetch_url
from swaps.net.url_policy import FetchPolicy, UrlError, is_public_address

LOOPBACK = ipaddress.ip_address("127.0.0.1")
BODY = b"\x89PNG\r\n\x1a\n" + b"pretend-image-bytes" * 10

Responder = Callable[[socket.socket], None]


def http_response(status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None):
    head = {"Content-Length": str(len(body)), "Content-Type": "image/png", **(headers or {})}
    lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in head.items() if v is not None]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def redirect(location: str, status: int = 302) -> bytes:
    return http_response(status, headers={"Location": location})


class LocalServer:
    """Plain TCP (optionally TLS) server on 127.0.0.1 with scripted per-path responses."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.routes: dict[str, bytes | Responder] = {}
        self.accepted: list[tuple[str, int]] = []
        self.requests: list[bytes] = []
        self.sni: list[str | None] = []
        self.stopped = threading.Event()
        self.tls = tls
        if tls is not None:
            tls.sni_callback = lambda sock, name, ctx: self.sni.append(name)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, peer = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(peer)
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(5)
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            head = b""
            while b"\r\n\r\n" not in head and (chunk := conn.recv(4096)):
                head += chunk
            self.requests.append(head)
            path = head.split(b" ", 2)[1].decode() if head.count(b" ") >= 2 else "/"
            route = self.routes.get(path, http_response(404))
            route(conn) if callable(route) else conn.sendall(route)
        except OSError:
            pass
        finally:
            conn.close()

    def header(self, index: int, name: str) -> str | None:
        for line in self.requests[index].decode("latin-1").split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.lower() == name.lower():
                return value.strip()
        return None

    def close(self) -> None:
        self.stopped.set()
        self.listener.close()


@pytest.fixture
def server() -> Iterator[LocalServer]:
    srv = LocalServer()
    yield srv
    srv.close()


def resolver_for(mapping: dict[str, list[str]]) -> Callable[[str, int], list[str]]:
    def resolve(host: str, port: int) -> list[str]:
        if host not in mapping:
            raise socket.gaierror(socket.EAI_NONAME, "unknown test host")
        return mapping[host]

    return resolve


def local_policy(server: LocalServer, **overrides) -> FetchPolicy:
    """Test-only: 'images.test' is the loopback server, and only that address is allowed."""
    settings = {
        "max_bytes": 1_000_000,
        "timeout_s": 3.0,
        "resolver": resolver_for({"images.test": ["127.0.0.1"]}),
        "address_allowed": lambda addr: addr == LOOPBACK,
        "allowed_ports": frozenset({server.port}),
        **overrides,
    }
    return FetchPolicy(**settings)


def assert_refused(url: str, policy: FetchPolicy, server: LocalServer, reason: str | None = None):
    with pytest.raises(UrlError) as exc:
        fetch_url(url, policy=policy)
    assert exc.value.code == "url_not_allowed"
    if reason is not None:
        assert exc.value.details["reason"] == reason
    time.sleep(0.05)  # give a stray connection time to show up
    assert server.accepted == []
    return exc.value


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every address fetch tries to connect to, including ones that would not answer."""
    seen: list[tuple[str, int]] = []
    real = socket.create_connection

    def spy(address, *args, **kwargs):
        seen.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(fetch.socket, "create_connection", spy)
    return seen


# --------------------------------------------------------------------------- address policy


@pytest.mark.parametrize(
    "addr",
    [
        "0.0.0.0", "0.1.2.3", "10.0.0.1", "10.255.255.255", "100.64.0.1", "100.127.255.254",
        "127.0.0.1", "127.255.0.1", "169.254.169.254", "169.254.0.1", "172.16.0.1",
        "172.31.255.255", "192.0.0.8", "192.0.0.170", "192.0.2.1", "192.88.99.1", "192.168.1.1",
        "198.18.0.1", "198.19.255.255", "198.51.100.7", "203.0.113.9", "224.0.0.1",
        "239.255.255.250", "240.0.0.1", "255.255.255.255",
        # IPv6 proper
        "::", "::1", "fe80::1", "fe80::1%eth0", "fc00::1", "fd12:3456::1", "fec0::1", "ff02::1",
        "ff0e::1", "2001:db8::1", "3fff::1", "100::1", "2001:2::1", "64:ff9b:1::a00:1",
        # IPv4 forms smuggled inside IPv6
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::ffff:0:a00:1",
        "::127.0.0.1", "::10.0.0.1", "::169.254.169.254", "::8.8.8.8",  # IPv4-compatible
        "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::c0a8:101",
        "2002:7f00:1::1", "2002:a9fe:a9fe::", "2002:c0a8:101::1",
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
        "2001:0:a00:1:8000:63bf:3fff:fdd2",  # Teredo, server 10.0.0.1
    ],
)  # fmt: skip
def test_not_public(addr: str) -> None:
    assert not is_public_address(ipaddress.ip_address(addr))
    assert not is_public_address(addr)


@pytest.mark.parametrize(
    "addr",
    [
        "8.8.8.8", "1.1.1.1", "93.184.216.34", "151.101.1.69", "100.128.0.1", "172.32.0.1",
        "2606:4700:4700::1111", "2001:4860:4860::8888", "2a00:1450:4001:81b::200e",
        "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
    ],
)  # fmt: skip
def test_public(addr: str) -> None:
    assert is_public_address(ipaddress.ip_address(addr))


def test_policy_defaults_are_production_safe() -> None:
    policy = FetchPolicy(max_bytes=1, timeout_s=1)
    assert policy.allowed_ports == frozenset({80, 443})
    assert policy.address_allowed is is_public_address
    assert policy.resolver is url_policy.default_resolver
    assert policy.max_redirects == 3


# ------------------------------------------------------------ nothing reaches loopback


def test_default_policy_never_connects_to_loopback(server: LocalServer) -> None:
    policy = FetchPolicy(max_bytes=1000, timeout_s=2, allowed_ports=frozenset({80, server.port}))
    for url in (
        f"http://127.0.0.1:{server.port}/img",
        "http://127.0.0.1:80/img",
        "http://127.0.0.1/img",
        f"http://localhost:{server.port}/img",  # real resolver: /etc/hosts
        f"http://[::1]:{server.port}/img",
        f"http://[::ffff:127.0.0.1]:{server.port}/img",
        f"http://[::ffff:7f00:1]:{server.port}/img",
        f"http://１２７.０.０.１:{server.port}/img",  # full-width digits, IDNA-folded
    ):
        assert_refused(url, policy, server, "address_not_public")


def test_name_resolving_to_loopback_is_refused(server: LocalServer) -> None:
    policy = FetchPolicy(
        max_bytes=1000, timeout_s=2, allowed_ports=frozenset({server.port}),
        resolver=resolver_for({"evil.example": ["127.0.0.1"]}),
    )  # fmt: skip
    assert_refused(f"http://evil.example:{server.port}/img", policy, server, "address_not_public")


def test_any_private_answer_refuses_the_whole_name(server: LocalServer) -> None:
    # Public first, loopback second: a client that tries addresses in turn would get in.
    policy = local_policy(
        server,
        resolver=resolver_for({"mixed.test": ["93.184.216.34", "127.0.0.1"]}),
        address_allowed=is_public_address,
    )
    assert_refused(f"http://mixed.test:{server.port}/img", policy, server, "address_not_public")


@pytest.mark.parametrize(
    "host",
    [
        "2130706433", "0x7f000001", "017700000001", "0177.0.0.1", "0x7f.0.0.1", "127.1",
        "127.0.1", "0x7f.1", "127.0.0.1.", "127.000.000.001", "%31%32%37.0.0.1", "0",
    ],
)  # fmt: skip
def test_odd_numeric_hosts_refused_even_if_address_allowed(server: LocalServer, host: str) -> None:
    # The test policy *allows* 127.0.0.1, so only the spelling rule can stop these.
    policy = local_policy(server)
    exc = assert_refused(f"http://{host}:{server.port}/img", policy, server)
    assert exc.details["reason"] in {"numeric_host", "bad_host"}


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "scheme"),
        ("ftp://images.test/img", "scheme"),
        ("gopher://images.test:70/_GET", "scheme"),
        ("dict://images.test:11211/stat", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("//images.test/img", "scheme"),
        ("http://user:pass@images.test:{port}/img", "userinfo"),
        ("http://images.test:{port}@127.0.0.1/img", "userinfo"),
        ("http://@images.test:{port}/img", "userinfo"),
        ("http://images.test:8080/img", "port"),
        ("http://images.test:99999/img", "port"),
        ("http://images.test:0/img", "port"),
        ("http://images.test:x/img", "port"),
        ("http:///img", "no_host"),
        ("http://[::1/img", "bad_url"),
        ("http://images.test:{port}/img\r\nX-Injected: 1", "bad_url"),
        ("http://images.test:{port}/a b", "bad_url"),
        ("http://images.test\\@127.0.0.1/", "bad_url"),
        ("http://images..test:{port}/", "bad_host"),
        ("http://[fe80::1%25lo]:{port}/", "bad_host"),
    ],
)
def test_url_shape_rules(server: LocalServer, url: str, reason: str) -> None:
    assert_refused(url.format(port=server.port), local_policy(server), server, reason)


def test_default_ports_only_in_production_policy(server: LocalServer) -> None:
    policy = FetchPolicy(max_bytes=1000, timeout_s=2, resolver=resolver_for({}))
    assert_refused(f"http://images.test:{server.port}/img", policy, server, "port")
    assert_refused(f"https://images.test:{server.port}/img", policy, server, "port")


# --------------------------------------------------------------------------- the allowed path


def test_allowed_fetch_pins_address_and_sends_name(server: LocalServer) -> None:
    server.routes["/img?size=1"] = http_response(200, BODY)
    url = f"http://images.test:{server.port}/img?size=1"
    assert fetch_url(url, policy=local_policy(server)) == BODY
    assert len(server.accepted) == 1
    assert server.requests[0].startswith(b"GET /img?size=1 HTTP/1.1\r\n")
    assert server.header(0, "Host") == f"images.test:{server.port}"
    assert server.header(0, "Accept-Encoding") == "identity"
    assert server.header(0, "Authorization") is None and server.header(0, "Cookie") is None


def test_resolver_is_called_once_per_hop(server: LocalServer) -> None:
    calls: list[str] = []
    answers = iter([["127.0.0.1"], ["10.0.0.1"]])  # a rebinding DNS server

    def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers)

    server.routes["/img"] = http_response(200, BODY)
    assert fetch_url(f"http://rebind.test:{server.port}/img", policy=local_policy(
        server, resolver=rebinding)) == BODY  # fmt: skip
    assert calls == ["rebind.test"]


def test_non_ascii_path_is_percent_encoded(server: LocalServer) -> None:
    server.routes["/f%C3%B6t%C3%B6.png"] = http_response(200, BODY)
    assert fetch_url(f"http://images.test:{server.port}/fötö.png", policy=local_policy(server)) == (
        BODY
    )


def test_relative_redirect_followed(server: LocalServer) -> None:
    server.routes["/start"] = redirect("/img")
    server.routes["/img"] = http_response(200, BODY)
    assert fetch_url(f"http://images.test:{server.port}/start", policy=local_policy(server)) == BODY
    assert len(server.accepted) == 2
    assert server.header(1, "Host") == f"images.test:{server.port}"


# --------------------------------------------------------------------------- redirects


def _loopback_plus_public(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return addr == LOOPBACK or is_public_address(addr)


@pytest.mark.parametrize(
    ("location", "code", "reason"),
    [
        ("http://10.0.0.1/img", "url_not_allowed", "address_not_public"),
        ("http://metadata.test/latest/meta-data/", "url_not_allowed", "address_not_public"),
        ("http://[::ffff:a9fe:a9fe]/", "url_not_allowed", "address_not_public"),
        ("http://2852039166/", "url_not_allowed", "numeric_host"),  # 169.254.169.254
        ("file:///etc/passwd", "url_not_allowed", "scheme"),
        ("http://images.test:22/", "url_not_allowed", "port"),
        ("http://user@images.test/", "url_not_allowed", "userinfo"),
    ],
)
def test_redirect_target_rechecked(
    server: LocalServer, connections: list, location: str, code: str, reason: str
) -> None:
    server.routes["/start"] = redirect(location)
    policy = local_policy(
        server,
        resolver=resolver_for({"images.test": ["127.0.0.1"], "metadata.test": ["169.254.169.254"]}),
        address_allowed=_loopback_plus_public,
        allowed_ports=frozenset({80, server.port}),
    )
    with pytest.raises(UrlError) as exc:
        fetch_url(f"http://images.test:{server.port}/start", policy=policy)
    assert (exc.value.code, exc.value.details["reason"]) == (code, reason)
    assert connections == [("127.0.0.1", server.port)]  # the redirect target never contacted


def test_too_many_redirects(server: LocalServer) -> None:
    server.routes["/loop"] = redirect("/loop", status=307)
    with pytest.raises(UrlError) as exc:
        fetch_url(f"http://images.test:{server.port}/loop", policy=local_policy(server))
    assert exc.value.code == "url_fetch_failed"
    assert exc.value.details == {"reason": "too_many_redirects", "max_redirects": 3}
    assert len(server.accepted) == 4  # the original request plus three redirects


def test_zero_redirects_allowed(server: LocalServer) -> None:
    server.routes["/start"] = redirect("/img", status=301)
    server.routes["/img"] = http_response(200, BODY)
    with pytest.raises(UrlError) as exc:
        fetch_url(
            f"http://images.test:{server.port}/start", policy=local_policy(server, max_redirects=0)
        )
    assert exc.value.details["reason"] == "too_many_redirects"


# --------------------------------------------------------------------------- HTTP failures


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (http_response(404, b"not here"), "http_status"),
        (http_response(500), "http_status"),
        (http_response(403), "http_status"),
        (http_response(304), "http_status"),
        (http_response(302), "redirect_without_location"),
        (b"NOT-HTTP garbage\r\n\r\n", "protocol"),
        (http_response(200, b"short", {"Content-Length": "100"}), "truncated"),
    ],
)
def test_http_failures(server: LocalServer, response: bytes, reason: str) -> None:
    server.routes["/img"] = response
    with pytest.raises(UrlError) as exc:
        fetch_url(f"http://images.test:{server.port}/img", policy=local_policy(server))
    assert exc.value.code == "url_fetch_failed"
    assert exc.value.details["reason"] == reason


def test_connection_refused() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # free once closed: nothing listens there
    policy = FetchPolicy(
        max_bytes=10, timeout_s=2, allowed_ports=frozenset({port}),
        resolver=resolver_for({"images.test": ["127.0.0.1"]}),
        address_allowed=lambda addr: addr == LOOPBACK,
    )  # fmt: skip
    with pytest.raises(UrlError) as exc:
        fetch_url(f"http://images.test:{port}/img", policy=policy)
    assert exc.value.details["reason"] == "connect"


@pytest.mark.parametrize(
    "resolver",
    [resolver_for({}), lambda host, port: [], lambda host, port: ["not-an-ip"]],
    ids=["nxdomain", "empty", "garbage"],
)
def test_dns_failures(server: LocalServer, resolver) -> None:
    with pytest.raises(UrlError) as exc:
        fetch_url(
            f"http://nowhere.test:{server.port}/", policy=local_policy(server, resolver=resolver)
        )
    assert (exc.value.code, exc.value.details["reason"]) == ("url_fetch_failed", "dns")


# --------------------------------------------------------------------------- size cap


def _stream_forever(headers: bytes) -> Responder:
    def respond(conn: socket.socket) -> None:
        conn.sendall(headers)
        chunk = b"\0" * 65536
        for _ in range(2000):  # up to 128 MB unless the client hangs up
            conn.sendall(chunk)

    return respond


@pytest.mark.parametrize(
    "route",
    [
        http_response(200, b"x" * 2000),  # honest Content-Length
        _stream_forever(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"),  # no length
        _stream_forever(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"),  # lying length
        _stream_forever(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000\r\n"),
    ],
    ids=["declared", "close-delimited", "lying-length", "chunked"],
)
def test_oversize_body_cut_off(server: LocalServer, route) -> None:
    server.routes["/big"] = route
    policy = local_policy(server, max_bytes=1000)
    started = time.monotonic()
    try:
        data = fetch_url(f"http://images.test:{server.port}/big", policy=policy, image="source")
    except ImageInputError as exc:
        assert exc.code == "image_too_large"
        assert exc.details == {"reason": "too_large", "max_bytes": 1000, "image": "source"}
    else:  # a lying Content-Length: 10 can only ever yield those 10 bytes
        assert len(data) <= 1000
    assert time.monotonic() - started < 1.5


# --------------------------------------------------------------------------- time cap


def _drip(prefix: bytes, interval: float = 0.05) -> Responder:
    def respond(conn: socket.socket) -> None:
        conn.sendall(prefix)
        for _ in range(400):  # each byte arrives well within any per-read timeout
            time.sleep(interval)
            conn.sendall(b"a")

    return respond


def _slow_redirect(target: str) -> Responder:
    def respond(conn: socket.socket) -> None:
        time.sleep(0.2)
        conn.sendall(redirect(target))

    return respond


@pytest.mark.parametrize(
    "route",
    [
        _drip(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"),  # slow body
        _drip(b"HTTP/1.1 200 OK\r\nX-Slow: "),  # slow headers
        lambda conn: threading.Event().wait(3),  # accepts, never answers
        _slow_redirect("/slow"),  # each hop is quick, the chain is not
    ],
    ids=["slow-body", "slow-headers", "silent", "slow-redirect-chain"],
)
def test_total_time_cap(server: LocalServer, route) -> None:
    server.routes["/slow"] = route
    policy = local_policy(server, timeout_s=0.5, max_redirects=10)
    started = time.monotonic()
    with pytest.raises(UrlError) as exc:
        fetch_url(f"http://images.test:{server.port}/slow", policy=policy)
    elapsed = time.monotonic() - started
    assert (exc.value.code, exc.value.details["reason"]) == ("url_fetch_failed", "timeout")
    assert 0.45 < elapsed < 1.2  # generous upper bound: CI machines stall


def test_slow_dns_counts_against_deadline(server: LocalServer) -> None:
    def slow(host: str, port: int) -> list[str]:
        time.sleep(2)
        return ["127.0.0.1"]

    started = time.monotonic()
    with pytest.raises(UrlError) as exc:
        fetch_url(f"http://images.test:{server.port}/", policy=local_policy(
            server, resolver=slow, timeout_s=0.3))  # fmt: skip
    assert exc.value.details["reason"] == "timeout"
    assert time.monotonic() - started < 1.2
    assert server.accepted == []


# --------------------------------------------------------------------------- TLS


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not available")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=images.test",
         "-addext", "subjectAltName=DNS:images.test"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[LocalServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    srv = LocalServer(tls=context)
    srv.routes["/img"] = http_response(200, BODY)
    yield srv
    srv.close()


def _tls_policy(server: LocalServer, ca_file: Path | None) -> FetchPolicy:
    names = {"images.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]}
    return local_policy(
        server, resolver=resolver_for(names), ca_file=str(ca_file) if ca_file else None
    )


def test_tls_uses_hostname_for_sni_and_verification(
    tls_server: LocalServer, certificate: tuple[Path, Path]
) -> None:
    policy = _tls_policy(tls_server, certificate[0])
    assert fetch_url(f"https://images.test:{tls_server.port}/img", policy=policy) == BODY
    assert tls_server.sni == ["images.test"]  # the name, although we dialled 127.0.0.1
    assert tls_server.header(0, "Host") == f"images.test:{tls_server.port}"


def test_tls_untrusted_certificate_refused(tls_server: LocalServer) -> None:
    with pytest.raises(UrlError) as exc:
        fetch_url(
            f"https://images.test:{tls_server.port}/img", policy=_tls_policy(tls_server, None)
        )
    assert (exc.value.code, exc.value.details["reason"]) == ("url_fetch_failed", "tls")
    assert tls_server.requests == []


def test_tls_name_mismatch_refused(tls_server: LocalServer, certificate: tuple[Path, Path]) -> None:
    # Same IP, trusted certificate, wrong name: verification must follow the URL's name.
    policy = _tls_policy(tls_server, certificate[0])
    with pytest.raises(UrlError) as exc:
        fetch_url(f"https://other.test:{tls_server.port}/img", policy=policy)
    assert exc.value.details["reason"] == "tls"
    assert tls_server.requests == []
