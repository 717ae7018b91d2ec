"""Crash drill: a stream of jobs while workers, then the whole service, are killed -9.

    .venv/bin/python -m benchmarks.crash_drill [--worker-kills 30] [--service-kills 20]
        [--database-url postgres://u:p@host:5432/db]

Runs `manage.py serve` (web server + django-q2 cluster, as `make run`) on a throwaway
database (a SQLite file, or a new PostgreSQL database beside the one named) and media
folder. A client submits swaps of the fixture pair one after another, each with its own
Idempotency-Key, retrying the same key while the service is down. Meanwhile, at random
moments (0.3-2.5 s apart): ``--worker-kills`` times SIGKILL to a worker process (the one
running a job when there is one), then ``--service-kills`` times SIGKILL to every process
of the service, which is then started again. Then it waits for every accepted job to end
and audits the database: jobs lost (accepted but never ended: must be 0), charged twice
(0), refunded twice (0), failed jobs without their refund or completed ones with one (0),
and every balance against its ledger. Exits 1 if any check fails.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import numpy as np
import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # also runnable as a plain script

from tests.live_server import SwapForm, ThrowawayDatabase  # noqa: E402

ENDED = {"completed", "failed"}
PACE_S = 1.0  # between submissions: about what one worker swaps, so the queue stays short
LOG_COPY = Path(tempfile.gettempdir()) / "crash-drill-service.log"
# A job is lost when the queue stops moving: no job ended for this long (recovery takes a
# dead cluster's jobs back within a minute, a stuck cluster is restarted within 30 s).
STALLED_S = 120


class Service:
    """`manage.py serve` in its own process group, so one signal kills all of it."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "serve", "--port", str(self.port)],
                cwd=REPO,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.url}/api/v1/account", timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.2)
        raise SystemExit(f"the service did not start; see {self.log}")

    def kill_all(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=60)
            with contextlib.suppress(ProcessLookupError):  # nothing of the drill outlives it
                os.killpg(self.process.pid, signal.SIGKILL)


def process_tree() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    return children


def descendants(pid: int, tree: dict[int, list[int]]) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def worker_to_kill(service: Service) -> int | None:
    """The worker process running a job if one is (as the job records it), else an idle
    worker (django-q2 titles its processes: "qcluster Process-... idle")."""
    from swaps.models import SwapJob

    if service.process is None:
        return None
    tree = process_tree()
    ours = set(descendants(service.process.pid, tree))
    busy = SwapJob.objects.filter(status="processing").values_list("worker", flat=True)
    running = [int(w.rsplit(":", 1)[1]) for w in busy if w.startswith(f"{socket.gethostname()}:")]
    running = [pid for pid in running if pid in ours]
    if running:
        return random.choice(running)
    idle = [
        pid
        for pid in ours
        if _cmdline(pid).startswith(b"qcluster") and _cmdline(pid).rstrip(b"\0").endswith(b" idle")
    ]
    return random.choice(idle) if idle else None


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def drill_form() -> SwapForm:
    """The fixture pair with the target enlarged to ~4 MP, so a job runs long enough
    (about a second) for kills to land in the middle of one."""
    import cv2

    form = SwapForm.from_fixtures()
    name, data, kind = form.files["target_image"]
    target = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    big = cv2.resize(target, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
    form.files["target_image"] = (name, cv2.imencode(".jpg", big)[1].tobytes(), kind)
    return form


class Submitter(threading.Thread):
    """Submits swaps one after another; a request the service did not answer is sent
    again with the same Idempotency-Key until it is answered."""

    def __init__(self, service: Service, key: str) -> None:
        super().__init__(daemon=True)
        self.service, self.key = service, key
        self.body, self.content_type = drill_form().encoded()
        self.accepted: list[str] = []
        self.refused: Counter[int] = Counter()
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            self._submit_one(str(uuid.uuid4()))
            time.sleep(PACE_S)

    def _submit_one(self, idempotency_key: str) -> None:
        headers = {
            "X-Api-Key": self.key,
            "Idempotency-Key": idempotency_key,
            "Content-Type": self.content_type,
        }
        while True:
            try:
                reply = requests.post(
                    f"{self.service.url}/api/v1/swaps", data=self.body, headers=headers, timeout=30
                )
            except requests.RequestException:
                time.sleep(0.3)  # down: the same request again, same key
                continue
            if reply.status_code == 202:
                self.accepted.append(reply.json()["id"])
                return
            if reply.status_code < 500 and reply.status_code != 409:
                self.refused[reply.status_code] += 1
                return
            time.sleep(0.3)  # 5xx, or 409 "still in progress": ask again


def drill(
    service: Service, submitter: Submitter, worker_kills: int, service_kills: int
) -> Counter[str]:
    kills: Counter[str] = Counter()
    while kills["worker"] < worker_kills:
        time.sleep(random.uniform(0.3, 2.5))
        pid = worker_to_kill(service)
        if pid is None:  # the cluster is (re)starting: no worker to kill yet
            continue
        mid_job = _is_running_a_job(pid)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
        kills["worker"] += 1
        kills["mid-job"] += mid_job
    for _ in range(service_kills):
        time.sleep(random.uniform(0.3, 2.5))
        service.kill_all()
        kills["service"] += 1
        service.start()
    return kills


def _is_running_a_job(pid: int) -> bool:
    from swaps.models import SwapJob

    return SwapJob.objects.filter(status="processing", worker__endswith=f":{pid}").exists()


def wait_for_the_end(job_ids: list[str]) -> float:
    """Seconds until every job ended, or until none ended for STALLED_S (then the rest
    count as lost)."""
    from swaps.models import SwapJob

    started = last_progress = time.monotonic()
    open_before = None
    while time.monotonic() - last_progress < STALLED_S:
        open_jobs = SwapJob.objects.filter(pk__in=job_ids).exclude(status__in=ENDED)
        count = open_jobs.count()
        if count == 0:
            break
        if count != open_before:
            last_progress, open_before = time.monotonic(), count
            states = Counter(open_jobs.values_list("status", flat=True))
            print(f"  waiting {time.monotonic() - started:.0f} s: {dict(states)}", flush=True)
        time.sleep(1)
    return time.monotonic() - started


def audit(account_id: int, start_credits: int, accepted: list[str]) -> dict[str, int]:
    from django.db.models import Count

    from accounts import quotas
    from accounts.models import Account, CreditEntry
    from swaps.models import SwapJob

    account = Account.objects.get(pk=account_id)
    jobs = SwapJob.objects.filter(account=account)
    entries = CreditEntry.objects.filter(account=account)
    per_job = entries.filter(job__isnull=False).values("job", "kind").annotate(n=Count("id"))
    refunded = set(entries.filter(kind="refund").values_list("job", flat=True))
    failed = set(jobs.filter(status="failed").values_list("pk", flat=True))
    completed = set(jobs.filter(status="completed").values_list("pk", flat=True))
    charged = sum(-e.amount for e in entries.filter(kind="charge"))
    returned = sum(e.amount for e in entries.filter(kind="refund"))
    return {
        "accepted": len(accepted),
        "jobs in the database": jobs.count(),
        "completed": len(completed),
        "failed (refunded)": len(failed),
        "lost": len(set(accepted) - {str(pk) for pk in completed | failed}),
        "charged twice": sum(1 for row in per_job if row["kind"] == "charge" and row["n"] > 1),
        "refunded twice": sum(1 for row in per_job if row["kind"] == "refund" and row["n"] > 1),
        "failed without refund": len(failed - refunded),
        "completed with a refund": len(completed & refunded),
        "balance != ledger": int(account.credits != quotas.ledger_balance(account)),
        "balance != start - charges + refunds": int(
            account.credits != start_credits - charged + returned
        ),
    }


MUST_BE_ZERO = (
    "lost",
    "charged twice",
    "refunded twice",
    "failed without refund",
    "completed with a refund",
    "balance != ledger",
    "balance != start - charges + refunds",
)


def environment(workdir: Path, database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "faceswap_site.settings",
        "DATABASE_URL": database_url,
        "VAR_DIR": str(workdir / "var"),
        "MEDIA_ROOT": str(workdir / "media"),
        "Q_SYNC": "false",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(REPO),
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(args: argparse.Namespace, workdir: Path) -> int:
    database = ThrowawayDatabase(args.database_url, workdir)
    database.create()
    env = environment(workdir, database.url)
    os.environ.update(env)
    import django
    from django.core.management import call_command

    from tests.live_server import _seed

    django.setup()
    call_command("migrate", verbosity=0)
    start_credits = 100_000
    seeded = _seed(start_credits, 1_000_000, 1_000_000)
    service = Service(env, free_port(), workdir / "service.log")
    service.start()
    submitter = Submitter(service, seeded["api_key"])
    started = time.monotonic()
    try:
        submitter.start()
        kills = drill(service, submitter, args.worker_kills, args.service_kills)
        submitter.stopping.set()
        submitter.join(timeout=120)
        waited = wait_for_the_end(submitter.accepted)
        figures = audit(seeded["account_id"], start_credits, submitter.accepted)
    finally:
        service.stop()
        shutil.copy(service.log, LOG_COPY)
        from django.db import connections

        connections.close_all()
        database.drop()
    return report(kills, figures, waited, time.monotonic() - started, database.kind, submitter)


def report(
    kills: Counter[str],
    figures: dict[str, int],
    waited: float,
    took: float,
    kind: str,
    submitter: Submitter,
) -> int:
    print(
        f"crash drill on {kind}: {kills['worker']} worker kills ({kills['mid-job']} of a "
        f"worker running a job), {kills['service']} "
        f"whole-service kills in {took:.0f} s; all accepted jobs ended {waited:.1f} s "
        "after the last kill"
    )
    if submitter.refused:
        print(f"refused requests (status: count): {dict(submitter.refused)}")
    failures = [name for name in MUST_BE_ZERO if figures[name]]
    for name, value in figures.items():
        mark = "  <- must be 0" if name in failures else ""
        print(f"  {name:<38} {value}{mark}")
    print(f"(the service's log: {LOG_COPY})")
    print("PASS" if not failures else f"FAIL: {', '.join(failures)}")
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker-kills", type=int, default=30)
    parser.add_argument("--service-kills", type=int, default=20)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seed", type=int, default=None, help="for a repeatable schedule")
    args = parser.parse_args()
    random.seed(args.seed)
    with tempfile.TemporaryDirectory(prefix="crash-drill-", ignore_cleanup_errors=True) as tmp:
        return run(args, Path(tmp))


if __name__ == "__main__":
    raise SystemExit(main())
