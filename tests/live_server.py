"""The real web server (uvicorn and faceswap_site.front_door, as `make run`) on a throwaway
database, for live tests.

Why not pytest-django's `live_server`: it serves from a thread of the test process, and on
the in-memory SQLite test database all its requests share one connection, so nothing
really runs at once. Here the server runs several processes with several threads
each, against a database of their own, as in production: a SQLite file (WAL, BEGIN
IMMEDIATE, one connection per thread) or a fresh PostgreSQL database made beside the one
DATABASE_URL names. No django-q2 worker runs: created jobs stay pending in the ORM queue,
so a burst measures the API (quotas, credits, idempotency) and not the engine.

Run as a module inside the server's environment to seed or read its database:
    python -m tests.live_server seed --credits 10 --hourly 100 --daily 1000
    python -m tests.live_server inspect ACCOUNT_ID
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.structures import CaseInsensitiveDict

from faceswap_site import webserver

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
POSTGRES_SCHEMES = {"postgres", "postgresql"}
REQUEST_TIMEOUT_S = 120  # a stuck server fails the run instead of hanging it
START_TIMEOUT_S = 90


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]
    headers: CaseInsensitiveDict[str]  # header names are case-insensitive
    seconds: float

    @property
    def code(self) -> str | None:
        """The error envelope's code, if this is an error."""
        error = self.body.get("error")
        return error.get("code") if isinstance(error, dict) else None


@dataclass(frozen=True)
class SeededAccount:
    account_id: int
    api_key: str
    credits: int


@dataclass(frozen=True)
class SwapForm:
    """The multipart body of one POST /api/v1/swaps."""

    files: dict[str, tuple[str, bytes, str]] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, str]:
        """The body and its Content-Type, built once: load clients spend their CPU sending."""
        from urllib3.filepost import encode_multipart_formdata

        return encode_multipart_formdata(self.files)

    @classmethod
    def from_fixtures(cls) -> SwapForm:
        return cls(
            {
                "source_image": (
                    "grace_hopper.jpg",
                    (FIXTURES / "grace_hopper.jpg").read_bytes(),
                    "image/jpeg",
                ),
                "target_image": (
                    "astronaut.jpg",
                    (FIXTURES / "astronaut.jpg").read_bytes(),
                    "image/jpeg",
                ),
            }
        )


def is_postgres(url: str | None) -> bool:
    return bool(url) and urlsplit(url).scheme in POSTGRES_SCHEMES


class ThrowawayDatabase:
    """SQLite: a file in workdir. PostgreSQL: a new database on the server `base_url` names."""

    def __init__(self, base_url: str | None, workdir: Path) -> None:
        self.base_url = base_url if is_postgres(base_url) else None
        self.name = f"faceswap_live_{secrets.token_hex(4)}"
        if self.base_url:
            self.url = urlsplit(self.base_url)._replace(path=f"/{self.name}").geturl()
        else:
            self.url = f"sqlite:///{workdir / 'db.sqlite3'}"

    @property
    def kind(self) -> str:
        return "postgresql" if self.base_url else "sqlite"

    def create(self) -> None:
        self._admin("CREATE DATABASE {}")

    def drop(self) -> None:
        self._admin("DROP DATABASE IF EXISTS {} WITH (FORCE)")

    def _admin(self, statement: str) -> None:
        if not self.base_url:
            return  # the SQLite file lives and dies with workdir
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.base_url, autocommit=True) as conn:
            conn.execute(sql.SQL(statement).format(sql.Identifier(self.name)))


class LiveServer:
    """The web server (processes x threads) on `database_url`, plus helpers to talk to it."""

    def __init__(
        self,
        workdir: Path,
        database_url: str,
        *,
        workers: int = 3,
        threads: int = 4,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.workdir = workdir
        self.database_url = database_url
        self.workers = workers
        self.threads = threads
        self.extra_env = extra_env or {}
        self.log_path = workdir / "server.log"
        self.url = ""
        self._processes: list[subprocess.Popen[bytes]] = []

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "LOG_LEVEL": "ERROR",
            **self.extra_env,
            "DJANGO_SETTINGS_MODULE": "faceswap_site.settings",
            "DATABASE_URL": self.database_url,
            "VAR_DIR": str(self.workdir / "var"),
            "MEDIA_ROOT": str(self.workdir / "media"),
            "Q_SYNC": "false",  # enqueue only: no worker runs, jobs stay pending
            "DEBUG": "false",
            "PYTHONPATH": str(ROOT),
        }

    def manage(self, *args: str) -> str:
        """Run a command in the server's environment; its stdout."""
        done = subprocess.run(
            [sys.executable, *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def migrate(self) -> None:
        self.manage("manage.py", "migrate", "--noinput", "--verbosity", "0")

    def start(self) -> None:
        # The processes share a socket we bound, as under `manage.py serve`: no free-port
        # race, and connections made before they are up wait in the backlog.
        listener = webserver.bind_listener("127.0.0.1", 0)
        fd = listener.fileno()
        self.url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        with self.log_path.open("ab") as log:
            self._processes = [
                subprocess.Popen(
                    webserver.command(fd, threads=self.threads, python=sys.executable),
                    cwd=ROOT,
                    env=self.env(),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    pass_fds=[fd],
                )
                for _ in range(self.workers)
            ]
        listener.close()
        self._wait_until_serving()

    def _wait_until_serving(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if any(process.poll() is not None for process in self._processes):
                raise RuntimeError(f"the server exited at start-up:\n{self.log_tail()}")
            try:
                requests.get(f"{self.url}/api/v1/account", timeout=5)
                return
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError(
            f"the server did not answer within {START_TIMEOUT_S}s:\n{self.log_tail()}"
        )

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self._processes]

    def stop(self) -> None:
        running = [process for process in self._processes if process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        for process in running:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return "(no server log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    # --- Talking to it ------------------------------------------------------------------

    def seed_account(self, *, credits: int, hourly: int, daily: int) -> SeededAccount:
        out = self.manage(
            "-m",
            "tests.live_server",
            "seed",
            "--credits",
            str(credits),
            "--hourly",
            str(hourly),
            "--daily",
            str(daily),
        )
        data = json.loads(out.strip().splitlines()[-1])
        return SeededAccount(data["account_id"], data["api_key"], credits)

    def inspect(self, account: SeededAccount) -> dict[str, int]:
        out = self.manage("-m", "tests.live_server", "inspect", str(account.account_id))
        return json.loads(out.strip().splitlines()[-1])

    def create_swap(
        self, api_key: str, form: SwapForm, headers: dict[str, str] | None = None
    ) -> Reply:
        return self.request("POST", "/api/v1/swaps", api_key, files=form.files, headers=headers)

    def get_json(self, path: str, api_key: str) -> dict[str, Any]:
        reply = self.request("GET", path, api_key)
        if reply.status != 200:
            raise RuntimeError(f"GET {path}: {reply.status} {reply.body}")
        return reply.body

    def request(self, method: str, path: str, api_key: str, **kwargs: Any) -> Reply:
        return http_request(method, f"{self.url}{path}", api_key, **kwargs)


def http_request(
    method: str, url: str, api_key: str, *, headers: dict[str, str] | None = None, **kwargs: Any
) -> Reply:
    """One request on a new connection, as a separate client would make it."""
    started = time.perf_counter()
    response = requests.request(
        method,
        url,
        headers={"X-Api-Key": api_key, **(headers or {})},
        timeout=REQUEST_TIMEOUT_S,
        **kwargs,
    )
    elapsed = time.perf_counter() - started
    try:
        body = response.json()
    except ValueError:
        body = {"raw": response.text[:500]}
    return Reply(
        response.status_code,
        body if isinstance(body, dict) else {"json": body},
        CaseInsensitiveDict(response.headers),
        elapsed,
    )


@contextmanager
def running_server(
    workdir: Path,
    *,
    base_url: str | None,
    workers: int = 3,
    threads: int = 4,
    extra_env: dict[str, str] | None = None,
    static: bool = False,
) -> Iterator[LiveServer]:
    """A migrated throwaway database and the web server on it; both gone afterwards.

    static: collect the static files first (pages in a browser need their CSS and JS)."""
    database = ThrowawayDatabase(base_url, workdir)
    database.create()
    server = LiveServer(
        workdir, database.url, workers=workers, threads=threads, extra_env=extra_env
    )
    try:
        server.migrate()
        if static:
            server.manage("manage.py", "collectstatic", "--noinput", "--verbosity", "0")
        server.start()
        yield server
    finally:
        server.stop()
        database.drop()
        shutil.rmtree(workdir / "media", ignore_errors=True)


@contextmanager
def running_worker(server: LiveServer, command: str = "worker") -> Iterator[None]:
    """A django-q2 worker (`manage.py worker`, or `qcluster` alone) on the server's database,
    its output in workdir/worker.log; it and all its children stopped afterwards."""
    with (server.workdir / "worker.log").open("ab") as log:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", command],
            cwd=ROOT,
            env=server.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: stopped with all its children below
        )
    try:
        yield
    finally:
        _stop_group(worker)


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def fire_together(calls: Sequence[Callable[[], Reply]]) -> list[Reply]:
    """Each call on its own thread, all released at once by a barrier, so they overlap."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Reply]) -> Reply:
        barrier.wait(timeout=60)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def wait_out_hour_edge(margin_s: float = 60) -> None:
    """Rate windows are fixed clock hours; a burst across the edge would count in two."""
    into_hour = time.time() % 3600
    if into_hour > 3600 - margin_s:
        time.sleep(3600 - into_hour + 1)


# --- Inside the server's environment (python -m tests.live_server ...) ---------------------


def _seed(credits: int, hourly: int, daily: int) -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    from accounts import quotas
    from accounts.keys import create_api_key
    from accounts.models import Account, Plan

    tag = secrets.token_hex(4)
    plan = Plan.objects.create(
        slug=f"load-{tag}",
        name=f"Load {tag}",
        hourly_limit=hourly,
        daily_limit=daily,
        read_hourly_limit=1_000_000,
        monthly_credits=0,
    )
    user = get_user_model().objects.create_user(
        username=f"load-{tag}", email=f"load-{tag}@example.com"
    )
    account = quotas.account_for(user=user)  # opened as the product opens it (with a grant)
    Account.objects.filter(pk=account.pk).update(plan=plan)
    account.refresh_from_db()
    if account.credits != credits:  # through the ledger, so balance == ledger sum holds
        quotas.adjust_credits(
            account=account,
            amount=credits - account.credits,
            reason="load test: exact starting balance",
        )
    _forget_redis_windows(account.pk)
    key = create_api_key(account=account, name="load test")
    return {"account_id": account.pk, "api_key": key.raw}


def _forget_redis_windows(account_id: int) -> None:
    """A fresh database reuses account ids; drop counts an earlier run left in this Redis."""
    from django.conf import settings

    if not settings.REDIS_URL:
        return
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(match=f"faceswap:rate:{account_id}:*"):
        client.delete(key)


def _inspect(account_id: int) -> dict[str, int]:
    from accounts import quotas
    from accounts.models import Account, CreditEntry, LedgerKind
    from swaps.models import SwapJob

    account = Account.objects.get(pk=account_id)
    charges = CreditEntry.objects.filter(account=account, kind=LedgerKind.CHARGE)
    return {
        "credits": account.credits,
        "ledger_sum": quotas.ledger_balance(account),
        "jobs": SwapJob.objects.filter(account=account).count(),
        "charges": charges.count(),
    }


def _run_jobs(job_ids: list[str]) -> dict[str, str]:
    """Run pending jobs here, as a worker would (for servers started without one)."""
    from swaps import services
    from swaps.models import SwapJob

    for job_id in job_ids:
        services.run_swap_job(job_id=job_id)
    return {str(job.pk): job.status for job in SwapJob.objects.filter(pk__in=job_ids)}


def _job_times(job_ids: list[str]) -> dict[str, dict[str, float | None]]:
    """When each job was created, claimed and completed (epoch seconds), and its
    processing_ms: where a waiting request's time went."""
    from swaps.models import SwapJob

    def epoch(moment: Any) -> float | None:
        return moment.timestamp() if moment else None

    return {
        str(job.pk): {
            "created": epoch(job.created_at),
            "claimed": epoch(job.claimed_at),
            "completed": epoch(job.completed_at),
            "processing_ms": job.processing_ms,
        }
        for job in SwapJob.objects.filter(pk__in=job_ids)
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.live_server")
    commands = parser.add_subparsers(dest="command", required=True)
    seed = commands.add_parser("seed", help="a new account on its own plan; prints its key")
    seed.add_argument("--credits", type=int, required=True)
    seed.add_argument("--hourly", type=int, required=True)
    seed.add_argument("--daily", type=int, required=True)
    inspect = commands.add_parser("inspect", help="an account's balance, ledger and jobs")
    inspect.add_argument("account_id", type=int)
    run = commands.add_parser("run", help="run pending jobs here, as a worker would")
    run.add_argument("job_ids", nargs="+")
    times = commands.add_parser("times", help="created/claimed/completed times of jobs")
    times.add_argument("job_ids", nargs="+")
    args = parser.parse_args(argv)

    import django

    django.setup()
    if args.command == "seed":
        result: Any = _seed(args.credits, args.hourly, args.daily)
    elif args.command == "run":
        result = _run_jobs(args.job_ids)
    elif args.command == "times":
        result = _job_times(args.job_ids)
    else:
        result = _inspect(args.account_id)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
