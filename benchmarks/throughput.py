"""Throughput and overhead of the whole service: jobs through the API, two workers.

    .venv/bin/python -m benchmarks.throughput [--jobs 60] [--workers 2]
        [--database-url postgres://u:p@host:5432/db --redis-url redis://host:6379/2
         [--s3-endpoint http://127.0.0.1:PORT]]

Setups: "embedded" (always): one machine, `manage.py serve` with WORKER_PROCESSES=2 on a
SQLite file, the ORM broker and a local media folder, as `make run`. "services" (with
--database-url and --redis-url): a web machine (`serve --no-worker`) and two worker
machines (`manage.py worker`, one process each), separate VAR_DIRs, on a new PostgreSQL
database, Redis and an S3 bucket (a moto server started here unless --s3-endpoint).

Each setup, after two warm-up jobs:
  idle      jobs one at a time: overhead = completed_at - created_at - processing_ms
            (the broker's pickup, claim, storing the result; median of --idle jobs);
  burst     --jobs ~1 MP pairs submitted by 4 client threads at once: jobs/s from the
            first submit to the last completion, the engine ceiling min(cores, workers) /
            median processing_ms, their ratio, and submit latency p50/p99;
  paced     jobs submitted at 80% of that ceiling: submit latency p50/p99.
Targets (docs/benchmarks.md): ratio >= 0.85; idle overhead <= 100 ms on Redis, <= 150 ms
embedded; paced submit p99 <= 100 ms. The figures are only meaningful on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # also runnable as a plain script

from tests.machines import (  # noqa: E402
    Machine,
    Services,
    WebMachine,
    WorkerMachine,
    moto_server,
    postgres_database,
)

CLIENT_THREADS = 4
JOB_WAIT_S = 600


@dataclass
class Figures:
    setup: str
    jobs: int
    jobs_per_s: float
    ceiling_per_s: float
    ratio: float
    median_processing_ms: float
    burst_submit_p50_ms: float
    burst_submit_p99_ms: float
    paced_rate_per_s: float
    paced_submit_p50_ms: float
    paced_submit_p99_ms: float
    idle_overhead_ms: float
    idle_end_to_end_ms: float
    burst_gap_ms: float  # median: a worker's job ended -> its next job claimed
    burst_tail_ms: float  # median: claimed + processing_ms -> completed_at (storing, ending)


# --- Inputs and the client -----------------------------------------------------------------


def one_megapixel_pair() -> tuple[bytes, bytes]:
    import cv2

    from benchmarks.engine_modes import to_megapixels
    from tests.images import ASTRONAUT, GRACE_HOPPER, load_fixture

    def jpeg(name: str) -> bytes:
        return cv2.imencode(
            ".jpg", to_megapixels(load_fixture(name)), [cv2.IMWRITE_JPEG_QUALITY, 90]
        )[1].tobytes()

    return jpeg(GRACE_HOPPER), jpeg(ASTRONAUT)


class Client:
    def __init__(self, base_url: str, api_key: str, pair: tuple[bytes, bytes]) -> None:
        self.base_url = base_url
        self.pair = pair
        self.local = threading.local()
        self.headers = {"X-Api-Key": api_key}

    def _session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        return self.local.session

    def submit(self) -> tuple[str, float, float]:
        """(job id, wall-clock start, seconds the POST took)."""
        files = {"source_image": ("s.jpg", self.pair[0]), "target_image": ("t.jpg", self.pair[1])}
        wall, started = time.time(), time.perf_counter()
        response = self._session().post(
            f"{self.base_url}/api/v1/swaps", files=files, headers=self.headers, timeout=120
        )
        took = time.perf_counter() - started
        if response.status_code != 202:
            raise RuntimeError(f"submit: {response.status_code} {response.text[:300]}")
        return response.json()["id"], wall, took

    def job(self, job_id: str) -> dict[str, Any]:
        response = self._session().get(
            f"{self.base_url}/api/v1/swaps/{job_id}", headers=self.headers, timeout=60
        )
        return response.json()

    def newest(self) -> dict[str, dict[str, Any]]:
        """The 100 newest jobs by id: one request, however many jobs are awaited."""
        response = self._session().get(
            f"{self.base_url}/api/v1/swaps?limit=100", headers=self.headers, timeout=60
        )
        return {job["id"]: job for job in response.json()["results"]}

    def wait(self, job_ids: list[str], poll_s: float = 0.5) -> list[dict[str, Any]]:
        """The jobs once all ended. One GET per poll (the list when several are awaited),
        so that the waiting client takes next to no CPU from the workers it measures."""
        deadline = time.monotonic() + JOB_WAIT_S
        pending, done = list(job_ids), {}
        while pending and time.monotonic() < deadline:
            seen = {pending[0]: self.job(pending[0])} if len(pending) == 1 else self.newest()
            for job_id in list(pending):
                job = seen.get(job_id) or self.job(job_id)
                if job["status"] in ("completed", "failed"):
                    done[job_id] = job
                    pending.remove(job_id)
            if pending:
                time.sleep(poll_s)
        if pending:
            raise RuntimeError(f"{len(pending)} jobs did not end within {JOB_WAIT_S}s")
        failed = [job for job in done.values() if job["status"] != "completed"]
        if failed:
            raise RuntimeError(f"{len(failed)} jobs failed, e.g. {failed[0]['error']}")
        return [done[job_id] for job_id in job_ids]


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --- The phases ----------------------------------------------------------------------------


def idle_phase(client: Client, count: int) -> tuple[float, float]:
    """(median overhead ms, median client end-to-end ms) of jobs sent one at a time."""
    overheads, end_to_end = [], []
    for _ in range(count):
        job_id, wall, _took = client.submit()
        job = client.wait([job_id], poll_s=0.02)[0]
        end_to_end.append((time.time() - wall) * 1000)
        span_ms = (_ts(job["completed_at"]) - _ts(job["created_at"])) * 1000
        overheads.append(span_ms - job["processing_ms"])
        time.sleep(0.3)  # idle again: the next job meets waiting workers
    return statistics.median(overheads), statistics.median(end_to_end)


def burst_phase(client: Client, count: int) -> tuple[list[dict[str, Any]], float, list[float]]:
    """(the jobs, wall-clock start, submit seconds each) of ``count`` jobs sent at once."""
    started = time.time()
    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        submitted = list(pool.map(lambda _: client.submit(), range(count)))
    jobs = client.wait([job_id for job_id, _, _ in submitted])
    return jobs, started, [took for _, _, took in submitted]


def paced_phase(client: Client, rate: float, count: int) -> list[float]:
    """Submit seconds of ``count`` jobs sent at ``rate`` per second (open loop)."""
    took: list[float] = []
    lock = threading.Lock()
    ids: list[str] = []

    def one() -> None:
        job_id, _, seconds = client.submit()
        with lock:
            took.append(seconds)
            ids.append(job_id)

    began = time.perf_counter()
    threads = []
    for n in range(count):
        delay = began + n / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        thread = threading.Thread(target=one)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    client.wait(ids)
    return took


WORKER_TIMES = (
    "import json; from swaps.models import SwapJob; "
    "print(json.dumps([[j.worker, j.claimed_at.timestamp(), j.completed_at.timestamp(), "
    "j.processing_ms] for j in SwapJob.objects.filter(pk__in={ids!r})]))"
)


def worker_gaps(web: Machine, job_ids: list[str]) -> tuple[float, float]:
    """Where a worker's time goes besides the engine, from the job rows: (median gap from
    one job's end to its next claim, median from processing's end to completed_at)."""
    out = web.run("manage.py", "shell", "-c", WORKER_TIMES.format(ids=job_ids))
    rows = json.loads(out.strip().splitlines()[-1])
    by_worker: dict[str, list[list[Any]]] = {}
    for row in rows:
        by_worker.setdefault(row[0], []).append(row)
    gaps = [
        (later[1] - earlier[2]) * 1000
        for jobs in by_worker.values()
        for earlier, later in pairwise(sorted(jobs, key=lambda row: row[1]))
    ]
    tails = [(done - claimed) * 1000 - ms for _, claimed, done, ms in rows]
    return statistics.median(gaps) if gaps else 0.0, statistics.median(tails)


def measure(
    setup: str, client: Client, args: argparse.Namespace, web: Machine, machines: Any = ()
) -> Figures:
    client.wait([client.submit()[0] for _ in range(2)])  # warm-up: models, connections
    idle_ms, idle_e2e_ms = idle_phase(client, args.idle)
    jobs, started, submit_s = burst_phase(client, args.jobs)
    finished = max(_ts(job["completed_at"]) for job in jobs)
    median_ms = statistics.median(job["processing_ms"] for job in jobs)
    ceiling = min(os.cpu_count() or 1, args.workers) / (median_ms / 1000)
    rate = len(jobs) / (finished - started)
    gap_ms, tail_ms = worker_gaps(web, [job["id"] for job in jobs])
    paced_rate = 0.8 * ceiling
    paced_s = paced_phase(client, paced_rate, args.paced)
    return Figures(
        setup=setup,
        jobs=len(jobs),
        jobs_per_s=round(rate, 2),
        ceiling_per_s=round(ceiling, 2),
        ratio=round(rate / ceiling, 3),
        median_processing_ms=round(median_ms, 1),
        burst_submit_p50_ms=round(_percentile(submit_s, 0.5) * 1000, 1),
        burst_submit_p99_ms=round(_percentile(submit_s, 0.99) * 1000, 1),
        paced_rate_per_s=round(paced_rate, 2),
        paced_submit_p50_ms=round(_percentile(paced_s, 0.5) * 1000, 1),
        paced_submit_p99_ms=round(_percentile(paced_s, 0.99) * 1000, 1),
        idle_overhead_ms=round(idle_ms, 1),
        idle_end_to_end_ms=round(idle_e2e_ms, 1),
        burst_gap_ms=round(gap_ms, 1),
        burst_tail_ms=round(tail_ms, 1),
    )


# --- The setups ----------------------------------------------------------------------------


def run_setup(
    setup: str,
    services: Services,
    root: Path,
    args: argparse.Namespace,
    pair: tuple[bytes, bytes],
    measure: Callable[..., Any] = measure,
) -> Any:
    """Start the setup's machines, seed an account, and return ``measure(setup, client,
    args, web, machines)``'s figures (benchmarks.job_cpu measures CPU instead)."""
    if setup == "embedded":
        web = WebMachine(root / "web", services, worker_processes=args.workers)
        machines: list[Machine] = [web]
    else:
        web = WebMachine(root / "web", services)
        workers = [
            WorkerMachine(f"worker-{n}", root / f"worker-{n}", services)
            for n in range(1, args.workers + 1)
        ]
        machines = [web, *workers]
    try:
        web.run("manage.py", "migrate", "--noinput", "--verbosity", "0")
        for machine in machines:
            machine.start()
        web.wait_ready()
        api_key = web.seed_api_key(credits=100000, hourly=100000, daily=1000000)
        return measure(setup, Client(web.url, api_key, pair), args, web, machines)
    except BaseException:
        for machine in machines:
            print(machine.log_tail(), file=sys.stderr)
        raise
    finally:
        for machine in machines:
            machine.stop()


def with_services(args: argparse.Namespace, root: Path, body: Callable[[Services], Any]) -> Any:
    """PostgreSQL (a new database), Redis and an S3 bucket (moto, unless given)."""
    import boto3

    keys = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
    bucket = f"faceswap-bench-{secrets.token_hex(4)}"
    database_url, drop = postgres_database(
        args.database_url, f"faceswap_bench_{secrets.token_hex(4)}"
    )
    try:
        with moto_server(args.s3_endpoint) as endpoint:
            _create_bucket(boto3, endpoint, bucket, keys)
            services = Services(
                database_url=database_url,
                redis_url=args.redis_url,
                storage_url=f"s3://{bucket}?endpoint_url={endpoint}&region_name=us-east-1",
                extra_env=keys,
            )
            return body(services)
    finally:
        drop()


def _create_bucket(boto3: Any, endpoint: str, bucket: str, keys: dict[str, str]) -> None:
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            client.create_bucket(Bucket=bucket)
            return
        except Exception:  # the server is still starting
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def report(figures: list[Figures]) -> None:
    rows = [asdict(f) for f in figures]
    names = list(rows[0])
    width = max(len(n) for n in names)
    print("\n" + " " * width + "  " + "".join(f"{r['setup']:>14}" for r in rows))
    for name in names[1:]:
        print(f"{name:<{width}}  " + "".join(f"{r[name]:>14}" for r in rows))
    print(json.dumps(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--idle", type=int, default=10, help="jobs of the idle phase")
    parser.add_argument("--paced", type=int, default=40, help="jobs of the paced phase")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--s3-endpoint", default="")
    parser.add_argument("--only", choices=["embedded", "services"], default=None)
    args = parser.parse_args()
    pair = one_megapixel_pair()
    root = Path(tempfile.mkdtemp(prefix="faceswap-throughput-"))
    figures = []
    try:
        if args.only != "services":
            embedded = Services(database_url=f"sqlite:///{root / 'embedded' / 'db.sqlite3'}")
            (root / "embedded").mkdir()
            figures.append(run_setup("embedded", embedded, root / "embedded", args, pair))
            report(figures)
        if args.only != "embedded" and args.database_url and args.redis_url:
            figures.append(
                with_services(
                    args, root, lambda s: run_setup("services", s, root / "services", args, pair)
                )
            )
            report(figures)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
