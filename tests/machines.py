"""The service as separate "machines" on one host: a web machine and worker machines,
each a process tree with its own VAR_DIR (its own secret-key file, metrics folder and
media folder), sharing nothing but the services named in `Services`.

Web: `manage.py serve --no-worker`; worker: `manage.py worker`; the production commands
of the README. Used by tests/test_multimachine.py and benchmarks/throughput.py.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 120


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Services:
    """What every machine shares. Empty values: the embedded default (SQLite file in
    ``shared_dir``, ORM broker, local media folder, which then must be shared)."""

    database_url: str
    redis_url: str = ""
    storage_url: str = ""
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(50))
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self, var_dir: Path) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("REDIS_URL", "STORAGE_URL", "DATABASE_URL", "MEDIA_ROOT")
        }
        env.update(
            {
                "PYTHONPATH": str(ROOT),
                "DJANGO_SETTINGS_MODULE": "faceswap_site.settings",
                "LOG_LEVEL": "WARNING",
                "DEBUG": "false",
                "Q_SYNC": "false",
                "VAR_DIR": str(var_dir),
                "DATABASE_URL": self.database_url,
                "SECRET_KEY": self.secret_key,
                **({"REDIS_URL": self.redis_url} if self.redis_url else {}),
                **({"STORAGE_URL": self.storage_url} if self.storage_url else {}),
                **self.extra_env,
            }
        )
        return env


class Machine:
    """One process tree (its own process group) in its own VAR_DIR."""

    def __init__(self, name: str, var_dir: Path, services: Services, command: list[str]) -> None:
        self.name = name
        self.var_dir = var_dir
        self.services = services
        self.command = command
        self.log_path = var_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def run(self, *args: str) -> str:
        """A one-off command (migrate, a seed) in this machine's environment."""
        self.var_dir.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [sys.executable, *args],
            cwd=ROOT,
            env=self.services.env(self.var_dir),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{self.name}: {' '.join(args)} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def start(self) -> None:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, *self.command],
                cwd=ROOT,
                env=self.services.env(self.var_dir),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a group of its own: stop() ends its whole tree
            )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no log)"
        text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        return f"--- {self.name} ---\n" + "\n".join(text)

    def local_media(self) -> list[Path]:
        """Files this machine left in its own media folder (none when storage is shared)."""
        media = self.var_dir / "media"
        return sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []


class WebMachine(Machine):
    """`manage.py serve --no-worker`; with ``worker_processes``, serve's own worker too
    (the embedded single machine of `make run`)."""

    def __init__(
        self, var_dir: Path, services: Services, *, web_workers: int = 2, worker_processes: int = 0
    ) -> None:
        self.port = free_port()
        command = ["manage.py", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--web-workers", str(web_workers)]
        if worker_processes:
            services = _with_env(services, WORKER_PROCESSES=str(worker_processes))
        else:
            command.append("--no-worker")
        super().__init__("web", var_dir, services, command)
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"the web machine exited:\n{self.log_tail()}")
            try:
                if requests.get(f"{self.url}/readyz", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the web machine was not ready in time:\n{self.log_tail()}")

    def seed_api_key(self, *, credits: int, hourly: int, daily: int) -> str:
        """A new account on the given plan limits with ``credits``; its raw API key."""
        seeded = self.run(
            "-m", "tests.live_server", "seed", "--credits", str(credits),
            "--hourly", str(hourly), "--daily", str(daily),
        )  # fmt: skip
        return json.loads(seeded.strip().splitlines()[-1])["api_key"]


class WorkerMachine(Machine):
    def __init__(self, name: str, var_dir: Path, services: Services, *, processes: int = 1):
        services = _with_env(services, WORKER_PROCESSES=str(processes))
        super().__init__(name, var_dir, services, ["manage.py", "worker"])


def _with_env(services: Services, **env: str) -> Services:
    return Services(
        database_url=services.database_url,
        redis_url=services.redis_url,
        storage_url=services.storage_url,
        secret_key=services.secret_key,
        extra_env={**services.extra_env, **env},
    )


@contextmanager
def moto_server(endpoint: str = "") -> Iterator[str]:
    """``endpoint``, or a moto S3 server started on a free loopback port for the block."""
    if endpoint:
        yield endpoint
        return
    port = free_port()
    moto = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        moto.terminate()
        moto.wait()


def postgres_database(base_url: str, name: str) -> tuple[str, object]:
    """A new database beside the one ``base_url`` names; (its URL, a function dropping it)."""
    import psycopg
    from psycopg import sql

    def admin(statement: str) -> None:
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(sql.SQL(statement).format(sql.Identifier(name)))

    admin("CREATE DATABASE {}")
    url = urlsplit(base_url)._replace(path=f"/{name}").geturl()
    return url, lambda: admin("DROP DATABASE IF EXISTS {} WITH (FORCE)")
