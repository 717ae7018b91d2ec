"""CPU the web process spends per API request: what the engine workers lose on a shared host.

    .venv/bin/python -m benchmarks.web_cpu [--creates 60] [--gets 200]
        [--database-url postgres://u:p@host:5432/db --redis-url redis://host:6379/2
         [--s3-endpoint http://127.0.0.1:PORT]] [--profile]

Starts the real web server (`manage.py serve --no-worker`, one process of 4 threads, as a
web machine of tests/machines.py) on a new SQLite file (or, with --database-url and
--redis-url, a new PostgreSQL database, Redis and an S3 bucket on moto), seeds an API
key, then sends, one at a time and after a warm-up, --creates `POST /api/v1/swaps` of the
~1 MP fixture pair (the burst of benchmarks/throughput.py) and --gets `GET
/api/v1/swaps/ID`. CPU is user + system time of every process of the server's tree, read
from /proc/PID/stat before and after each phase; divided by the requests sent, and the
part of it the web process's event loop took (its main thread: HTTP parsing, bodies,
answers), the rest being Django in the request threads. No worker runs: the jobs stay
queued, so what is measured is the web side alone.

--profile: also profile the same creates inside one process (Django's test client, no
HTTP server) and print the 25 costliest functions by own time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # also runnable as a plain script

from benchmarks.throughput import one_megapixel_pair, with_services  # noqa: E402
from tests.machines import Services, WebMachine  # noqa: E402

WARM_UP = 5
TICKS = os.sysconf("SC_CLK_TCK")


def _stat_times(path: Path) -> tuple[int, float] | None:
    """(parent pid, user + system CPU seconds) from a /proc stat file; None if gone."""
    try:
        fields = path.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None  # the process ended meanwhile
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def tree_pids(root_pid: int) -> list[int]:
    """``root_pid`` and every process below it (Linux /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        found = _stat_times(stat)
        if found is not None:
            parents[int(stat.parent.name)] = found[0]
    pids, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo += [child for child, parent in parents.items() if parent == pid]
    return pids


def tree_cpu_s(root_pid: int) -> float:
    """User + system CPU seconds of ``root_pid`` and every process below it."""
    found = (_stat_times(Path(f"/proc/{pid}/stat")) for pid in tree_pids(root_pid))
    return sum(times[1] for times in found if times is not None)


def event_loop_cpu_s(root_pid: int) -> float:
    """CPU seconds of the web processes' main threads: uvicorn's event loop (HTTP parsing,
    reading bodies, writing answers, handing requests to the Django threads)."""
    total = 0.0
    for pid in tree_pids(root_pid):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"faceswap_site.webserver" in command:
            found = _stat_times(Path(f"/proc/{pid}/task/{pid}/stat"))
            total += found[1] if found is not None else 0.0
    return total


def cpu_per_call(root_pid: int, count: int, call: Callable[[], None]) -> tuple[float, float]:
    """CPU ms of the server's tree per call over ``count`` sequential calls, and the part
    of it spent on the event loop."""
    before, loop_before = tree_cpu_s(root_pid), event_loop_cpu_s(root_pid)
    for _ in range(count):
        call()
    total = (tree_cpu_s(root_pid) - before) * 1000 / count
    return total, (event_loop_cpu_s(root_pid) - loop_before) * 1000 / count


def measure(services: Services, root: Path, args: argparse.Namespace) -> dict[str, float]:
    pair = one_megapixel_pair()
    web = WebMachine(root / "web", services, web_workers=1)
    web.run("manage.py", "migrate", "--noinput", "--verbosity", "0")
    try:
        web.start()
        web.wait_ready()
        key = web.seed_api_key(credits=1000000, hourly=1000000, daily=10000000)
        session = requests.Session()
        session.headers["X-Api-Key"] = key
        files = {"source_image": ("s.jpg", pair[0]), "target_image": ("t.jpg", pair[1])}
        ids: list[str] = []

        def create() -> None:
            reply = session.post(f"{web.url}/api/v1/swaps", files=files, timeout=60)
            if reply.status_code != 202:
                raise RuntimeError(f"create: {reply.status_code} {reply.text[:300]}")
            ids.append(reply.json()["id"])

        def get() -> None:
            reply = session.get(f"{web.url}/api/v1/swaps/{ids[0]}", timeout=60)
            if reply.status_code != 200:
                raise RuntimeError(f"get: {reply.status_code} {reply.text[:300]}")

        for _ in range(WARM_UP):
            create()
            get()
        assert web.process is not None
        started = time.perf_counter()
        create_ms, create_loop_ms = cpu_per_call(web.process.pid, args.creates, create)
        create_wall = (time.perf_counter() - started) * 1000 / args.creates
        get_ms, get_loop_ms = cpu_per_call(web.process.pid, args.gets, get)
        if args.profile:
            print(web.run("-m", "benchmarks.web_cpu", "--in-process", str(args.creates)))
    except BaseException:
        print(web.log_tail(), file=sys.stderr)
        raise
    finally:
        web.stop()
    return {
        "create_cpu_ms": round(create_ms, 2),
        "create_event_loop_cpu_ms": round(create_loop_ms, 2),
        "create_wall_ms": round(create_wall, 2),
        "get_cpu_ms": round(get_ms, 2),
        "get_event_loop_cpu_ms": round(get_loop_ms, 2),
    }


def profile_in_process(count: int) -> None:
    """The create path under cProfile, in this process (run inside the server's env)."""
    import cProfile
    import pstats

    import django

    django.setup()
    from django.test import Client

    from tests.live_server import _seed

    key = _seed(1_000_000, 1_000_000, 10_000_000)["api_key"]
    client = Client(headers={"X-Api-Key": key})
    pair = one_megapixel_pair()

    def create() -> None:
        from io import BytesIO

        body = {"source_image": BytesIO(pair[0]), "target_image": BytesIO(pair[1])}
        body["source_image"].name, body["target_image"].name = "s.jpg", "t.jpg"
        reply = client.post("/api/v1/swaps", body)
        assert reply.status_code == 202, reply.content[:300]

    for _ in range(WARM_UP):
        create()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        create()
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(25)
    # Where the project's own code and DRF spend it, with what they call.
    stats.sort_stats("cumtime").print_stats(r"(swaps|accounts|faceswap_site|rest_framework)/", 60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--creates", type=int, default=60)
    parser.add_argument("--gets", type=int, default=200)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--s3-endpoint", default="")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--in-process", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process:
        profile_in_process(args.in_process)
        return
    root = Path(tempfile.mkdtemp(prefix="faceswap-webcpu-"))
    try:
        if args.database_url and args.redis_url:
            setup = "postgres+redis+s3"
            figures = with_services(args, root, lambda s: measure(s, root / "services", args))
        else:
            setup = "embedded"
            (root / "embedded").mkdir()
            sqlite = Services(database_url=f"sqlite:///{root / 'embedded' / 'db.sqlite3'}")
            figures = measure(sqlite, root / "embedded", args)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(json.dumps({"setup": setup, "creates": args.creates, "gets": args.gets, **figures}))


if __name__ == "__main__":
    main()
