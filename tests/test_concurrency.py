"""Credits, rate windows and idempotency stay exact when requests really run at once.

The real web server (3 processes x 4 threads) serves a database of its own (see
tests/live_server.py for why not pytest-django's live_server): a SQLite file by default,
a fresh PostgreSQL database when DATABASE_URL names a PostgreSQL server, and Redis rate
windows when REDIS_URL is set. No worker runs, so accepted jobs stay pending.
Select these with `pytest -m concurrency`.
"""

from __future__ import annotations

import os
import secrets
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live_server import (
    LiveServer,
    Reply,
    SeededAccount,
    SwapForm,
    fire_together,
    running_server,
    wait_out_hour_edge,
)

pytestmark = pytest.mark.concurrency

HIGH = 100_000  # a rate limit that never binds


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir: Path = tmp_path_factory.mktemp("live-server")
    with running_server(workdir, base_url=os.environ.get("DATABASE_URL")) as live:
        yield live


@pytest.fixture(scope="module")
def form() -> SwapForm:
    return SwapForm.from_fixtures()


def burst(
    server: LiveServer,
    account: SeededAccount,
    form: SwapForm,
    count: int,
    headers: dict[str, str] | None = None,
) -> list[Reply]:
    return fire_together([lambda: server.create_swap(account.api_key, form, headers)] * count)


def assert_no_server_errors(replies: list[Reply], server: LiveServer) -> None:
    errors = [(r.status, r.body) for r in replies if r.status >= 500]
    assert not errors, (
        f"{len(errors)} server errors, first: {errors[0]}\n--- server log ---\n{server.log_tail()}"
    )


def statuses(replies: list[Reply]) -> Counter[int]:
    return Counter(r.status for r in replies)


def test_concurrent_creates_spend_exactly_the_balance(server: LiveServer, form: SwapForm) -> None:
    account = server.seed_account(credits=10, hourly=HIGH, daily=HIGH)

    replies = burst(server, account, form, 36)

    assert_no_server_errors(replies, server)
    assert statuses(replies) == {202: 10, 402: 26}
    assert {r.code for r in replies if r.status == 402} == {"insufficient_credits"}
    accepted = [r.body for r in replies if r.status == 202]
    assert len({job["id"] for job in accepted}) == 10
    assert {job["status"] for job in accepted} == {"pending"}
    assert server.get_json("/api/v1/account", account.api_key)["credits"] == 0
    assert server.get_json("/api/v1/swaps?limit=1", account.api_key)["count"] == 10
    assert server.inspect(account) == {"credits": 0, "ledger_sum": 0, "jobs": 10, "charges": 10}


def test_concurrent_creates_past_the_hourly_limit_are_429(
    server: LiveServer, form: SwapForm
) -> None:
    limit = 10
    account = server.seed_account(credits=100, hourly=limit, daily=HIGH)
    wait_out_hour_edge()

    replies = burst(server, account, form, 2 * limit)

    assert_no_server_errors(replies, server)
    assert statuses(replies) == {202: limit, 429: limit}
    refused = [r for r in replies if r.status == 429]
    assert {r.code for r in refused} == {"rate_limit_exceeded"}
    assert all(int(r.headers["Retry-After"]) > 0 for r in refused)
    # Each accepted request took its own place in the window: no count was lost.
    remaining = sorted(int(r.headers["X-RateLimit-Remaining"]) for r in replies if r.status == 202)
    assert remaining == list(range(limit))
    assert server.inspect(account) == {
        "credits": 90,
        "ledger_sum": 90,
        "jobs": limit,
        "charges": limit,
    }


def test_concurrent_duplicates_with_one_idempotency_key_make_one_job(
    server: LiveServer, form: SwapForm
) -> None:
    account = server.seed_account(credits=5, hourly=HIGH, daily=HIGH)
    headers = {"Idempotency-Key": f"burst-{secrets.token_hex(8)}"}

    replies = burst(server, account, form, 12, headers)

    assert_no_server_errors(replies, server)
    replayed = [r for r in replies if r.headers.get("Idempotent-Replayed") == "true"]
    originals = [r for r in replies if r.status == 202 and r not in replayed]
    conflicts = [r for r in replies if r.status == 409]
    assert len(originals) == 1
    assert len(originals) + len(replayed) + len(conflicts) == len(replies)
    assert {r.code for r in conflicts} <= {"idempotency_conflict"}
    job_id = originals[0].body["id"]
    assert {r.body["id"] for r in replayed} <= {job_id}
    assert server.inspect(account) == {"credits": 4, "ledger_sum": 4, "jobs": 1, "charges": 1}

    retry = server.create_swap(account.api_key, form, headers)

    assert (retry.status, retry.body["id"]) == (202, job_id)
    assert retry.headers.get("Idempotent-Replayed") == "true"


def test_concurrent_duplicates_of_a_refused_request_get_402_or_409(
    server: LiveServer, form: SwapForm
) -> None:
    account = server.seed_account(credits=0, hourly=HIGH, daily=HIGH)

    replies: list[Reply] = []
    for _ in range(6):  # the window is narrow: several bursts make it show
        headers = {"Idempotency-Key": f"broke-{secrets.token_hex(8)}"}
        replies += burst(server, account, form, 12, headers)

    assert_no_server_errors(replies, server)
    assert {(r.status, r.code) for r in replies} <= {
        (402, "insufficient_credits"),
        (409, "idempotency_conflict"),
    }
    assert server.inspect(account) == {"credits": 0, "ledger_sum": 0, "jobs": 0, "charges": 0}
