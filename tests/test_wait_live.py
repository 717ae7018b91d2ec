"""Prefer: wait on the real server (`manage.py serve`'s web process): the wait costs no
thread, and the answer comes when the job ends.

The server runs 1 process x 2 threads and no worker: jobs stay pending until the test
runs one (`python -m tests.live_server run ID`, the worker's own code, in another
process). A server whose waits held threads would answer nothing else while two clients
wait.
"""

from __future__ import annotations

import base64
import os
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests

from tests.live_server import LiveServer, SeededAccount, SwapForm, running_server

pytestmark = pytest.mark.concurrency
WAITERS = 100


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir: Path = tmp_path_factory.mktemp("wait")
    with running_server(
        workdir, base_url=os.environ.get("DATABASE_URL"), workers=1, threads=2
    ) as live:
        yield live


@pytest.fixture(scope="module")
def account(server: LiveServer) -> SeededAccount:
    return server.seed_account(credits=WAITERS + 20, hourly=10_000, daily=10_000)


def _job_count(server: LiveServer, key: str) -> int:
    return server.get_json("/api/v1/swaps?limit=1", key)["count"]


def _wait_for_jobs(server: LiveServer, key: str, count: int, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while _job_count(server, key) < count:
        assert time.monotonic() < deadline, f"fewer than {count} jobs were accepted"
        time.sleep(0.2)


def _waiting_post(server: LiveServer, key: str, seconds: int) -> socket.socket:
    """A whole POST /api/v1/swaps with Prefer: wait, sent; the answer is left unread."""
    body, content_type = SwapForm.from_fixtures().encoded()
    head = (
        f"POST /api/v1/swaps HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: {key}\r\n"
        f"Prefer: wait={seconds}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    host, port = server.url.removeprefix("http://").split(":")
    conn = socket.create_connection((host, int(port)), timeout=90)
    conn.sendall(head.encode("latin-1") + body)
    return conn


def test_a_waiting_request_is_answered_when_its_job_ends(server, account):
    before = _job_count(server, account.api_key)
    form = SwapForm.from_fixtures()
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(
            server.create_swap, account.api_key, form, headers={"Prefer": "wait=60"}
        )
        _wait_for_jobs(server, account.api_key, before + 1)
        job_id = server.get_json("/api/v1/swaps?limit=1", account.api_key)["results"][0]["id"]
        assert not waiting.done()  # pending: no worker runs here
        server.manage("-m", "tests.live_server", "run", job_id)
        reply = waiting.result(timeout=60)

    assert reply.status == 200, reply.body
    assert reply.headers["Preference-Applied"] == "wait=60"
    assert reply.body["id"] == job_id and reply.body["status"] == "completed"
    assert reply.body["result_url"].startswith(server.url)
    assert reply.headers["X-Request-Id"] and reply.headers["X-RateLimit-Remaining"]


def test_segmind_waits_on_the_server_and_answers_the_image_bytes(server, account):
    photos = SwapForm.from_fixtures().files
    body = {
        "source_img": base64.b64encode(photos["source_image"][1]).decode(),
        "target_img": base64.b64encode(photos["target_image"][1]).decode(),
    }
    before = _job_count(server, account.api_key)
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(
            requests.post,
            f"{server.url}/v1/models/faceswap-v2",
            json=body,
            headers={"x-api-key": account.api_key},
            timeout=90,
        )
        _wait_for_jobs(server, account.api_key, before + 1)
        job_id = server.get_json("/api/v1/swaps?limit=1", account.api_key)["results"][0]["id"]
        server.manage("-m", "tests.live_server", "run", job_id)
        reply = waiting.result(timeout=60)

    assert reply.status_code == 200, reply.text[:300]
    assert reply.headers["Content-Type"] == "image/jpeg"
    assert reply.headers["X-Job-Id"] == job_id
    assert reply.content[:2] == b"\xff\xd8"  # a JPEG
    assert reply.headers["X-Request-Id"] and reply.headers["X-RateLimit-Remaining"]


def test_a_job_not_ended_in_time_is_the_usual_202(server, account):
    reply = server.create_swap(
        account.api_key, SwapForm.from_fixtures(), headers={"Prefer": "wait=1"}
    )

    assert reply.status == 202
    assert reply.body["status"] == "pending"
    assert "Preference-Applied" not in reply.headers


def test_many_waiting_clients_hold_no_thread(server, account):
    before = _job_count(server, account.api_key)
    with ExitStack() as stack:
        for _ in range(WAITERS):
            stack.enter_context(_waiting_post(server, account.api_key, 60))
        _wait_for_jobs(server, account.api_key, before + WAITERS)
        # Every create answered its thread back: 2 threads, 100 clients still waiting.
        answered = [
            requests.get(
                f"{server.url}/api/v1/account", timeout=10, headers={"X-Api-Key": account.api_key}
            )
            for _ in range(5)
        ]
    assert [reply.status_code for reply in answered] == [200] * 5
