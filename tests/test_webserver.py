"""The web server `make run` starts (uvicorn and faceswap_site.front_door), attacked as an
outsider would.

Slow clients cost a socket, not a thread; what the server refuses before Django sees the
request is still the JSON envelope on /api/; the access log carries no key.
"""

from __future__ import annotations

import gc
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests

from faceswap_site.webserver import freeze_startup_objects
from tests.live_server import LiveServer, SeededAccount, running_server

pytestmark = pytest.mark.concurrency
KEY_LIKE = "0123456789ab.SECRETsecretSECRETsecretSECRETsecret42"
CAP = 2_000_000  # MAX_REQUEST_BYTES of this server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir: Path = tmp_path_factory.mktemp("webserver")
    # One process with two threads: a server that gave each slow client a thread would
    # be stuck after two of them.
    with running_server(
        workdir,
        base_url=os.environ.get("DATABASE_URL"),
        workers=1,
        threads=2,
        extra_env={"LOG_LEVEL": "INFO", "MAX_REQUEST_BYTES": str(CAP)},
    ) as live:
        yield live


@pytest.fixture(scope="module")
def account(server: LiveServer) -> SeededAccount:
    return server.seed_account(credits=5, hourly=1000, daily=1000)


def raw_exchange(server: LiveServer, head: str, body: bytes = b"") -> tuple[int, dict]:
    """Send `head` (and `body`) as is; the status and JSON body of the answer."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(head.encode("latin-1") + b"\r\n\r\n" + body)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head_part, _, payload = answer.partition(b"\r\n\r\n")
    status = int(head_part.split(b" ", 2)[1])
    return status, json.loads(payload)


def half_sent_upload(server: LiveServer) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    conn = socket.create_connection((host, int(port)), timeout=10)
    conn.sendall(
        b"POST /api/v1/swaps HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
        b"Content-Length: 1000000\r\n\r\nabcd"
    )
    return conn


def test_slow_uploads_do_not_hold_up_other_requests(server, account):
    with ExitStack() as stack:
        for _ in range(200):
            stack.enter_context(half_sent_upload(server))
        time.sleep(0.5)  # let the server take them all in
        answered = [
            requests.get(
                f"{server.url}/api/v1/account", timeout=10, headers={"X-Api-Key": account.api_key}
            )
            for _ in range(5)
        ]
    assert [reply.status_code for reply in answered] == [200] * 5


def test_a_body_over_the_cap_is_refused_before_it_is_sent(server):
    status, body = raw_exchange(
        server, "POST /api/v1/swaps HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999"
    )
    assert status == 413
    assert body["error"]["code"] == "request_too_large"
    assert body["error"]["details"]["max_bytes"] > 0


def test_a_chunked_body_is_refused_once_it_passes_the_cap(server):
    chunk = b"x" * 65536
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(CAP // len(chunk) + 2))
    status, body = raw_exchange(
        server,
        "POST /api/v1/swaps HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked",
        chunks + b"0\r\n\r\n",
    )
    assert status == 413
    assert body["error"]["code"] == "request_too_large"


def test_an_unknown_transfer_coding_is_a_json_501(server):
    status, body = raw_exchange(
        server, "POST /api/v1/swaps HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip"
    )
    assert status == 501
    assert body["success"] is False


@pytest.mark.parametrize("length", ["-5", "abc", "1, 2"])
def test_a_malformed_content_length_is_a_json_400(server, length):
    status, body = raw_exchange(
        server, f"POST /api/v1/swaps HTTP/1.1\r\nHost: x\r\nContent-Length: {length}"
    )
    assert status == 400
    assert body["success"] is False and body["error"]["code"] == "invalid_parameter"


@pytest.mark.parametrize(
    "head",
    [
        "NOT A REQUEST",
        "GET /api/v1/account HTTP/1.1\r\nHost: x\r\nBad Header: 1",
        "POST /api/v1/swaps HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked",
    ],
)
def test_a_malformed_request_is_a_json_400(server, head):
    status, body = raw_exchange(server, head, b"abc")
    assert status == 400
    assert body["success"] is False and body["error"]["code"] == "invalid_parameter"


def test_huge_headers_are_a_json_431(server):
    # Just past the 256 KB cap: the server has read nearly all of it when it answers, so
    # the answer is not lost to a reset of the bytes it left unread.
    status, body = raw_exchange(
        server, f"GET /api/v1/account HTTP/1.1\r\nHost: x\r\nX-Padding: {'a' * 262_200}"
    )
    assert status == 431
    assert body["error"]["code"] == "headers_too_large"


def test_the_header_cap_counts_each_request_of_a_kept_alive_connection(server):
    with requests.Session() as session:  # one connection: 40 heads of 10 KB, 400 KB in all
        statuses = {
            session.get(
                f"{server.url}/api/v1/account", timeout=10, headers={"X-Padding": "c" * 10_000}
            ).status_code
            for _ in range(40)
        }
    assert statuses == {401}


def test_a_long_url_and_a_big_header_reach_the_api(server):
    reply = requests.get(
        f"{server.url}/api/v1/account?q={'a' * 20_000}",
        timeout=10,
        headers={"X-Padding": "b" * 100_000},
    )
    assert reply.status_code == 401
    assert reply.json()["error"]["code"] == "api_key_required"


def test_the_access_log_has_no_key(server):
    requests.get(f"{server.url}/api/v1/account?api_key={KEY_LIKE}", timeout=10, auth=(KEY_LIKE, ""))
    time.sleep(0.3)
    log = server.log_path.read_text()
    assert "GET /api/v1/account?api_key=[redacted] HTTP/1.1" in log
    assert KEY_LIKE not in log


def test_a_page_that_sets_a_cookie_is_served(server):
    # Django's WSGI handler writes Set-Cookie with a leading space, which h11 refused.
    reply = requests.get(f"{server.url}/signup/", timeout=10)
    assert reply.status_code == 200
    assert "csrftoken" in reply.cookies


def test_start_up_objects_are_kept_out_of_the_collectors_walks() -> None:
    gc.unfreeze()
    try:
        freeze_startup_objects()
        assert "swaps.api.views" in sys.modules  # the URLconf's views, loaded before
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
