"""Where the CPU of a job goes: CPU ms per job of each process group during a burst.

    .venv/bin/python -m benchmarks.job_cpu [--jobs 60] [--workers 2] [--only embedded]
        [--database-url postgres://u:p@host:5432/db --redis-url redis://host:6379/2]

The setups of benchmarks.throughput (embedded; with the URLs, PostgreSQL + Redis + a moto
S3 server, separate web and worker machines). After two warm-up jobs, 5 s idle, then a
burst of --jobs jobs sent at once by 4 client threads. CPU is read from /proc/PID/stat
(utime + stime + cutime + cstime: ended children count too) of every process of each tree,
before and after each phase:

  web          the web machine's processes (`serve`, its uvicorn processes)
  worker:*     each worker machine's (or embedded serve's) `manage.py worker` tree, split
               into  supervisor (`manage.py worker`), qcluster (the cluster's main
               process), sentinel, q-worker, monitor and pusher (the sentinel's children,
               told apart by the titles django-q2 gives them with setproctitle; without
               titles: q-workers have the engine's onnxruntime mapped, and the monitor
               is spawned before the pusher)
  postgres / redis / moto   the process listening on the service's port, and its children
  client       this benchmark (submitting, waiting)
  other        the whole machine (/proc/stat) minus all of the above: other people's work

Printed: per group, CPU ms per job of the burst and CPU ms per second when idle; the
burst's jobs/s, median processing_ms and the mean of the jobs' own timings (where
processing_ms goes). On a shared machine "other" says how quiet the run was.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks import throughput  # noqa: E402
from tests.machines import Machine, Services  # noqa: E402

TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")
IDLE_S = 5.0


# --- /proc ---------------------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU ms of the process and its reaped children), None if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    # after the name: state ppid ... utime(14) stime(15) cutime(16) cstime(17), 1-based
    return int(fields[1]), sum(int(f) for f in fields[11:15]) * TICK_MS


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (found := _stat(int(entry.name))) is not None:
            tree[found[0]].append(int(entry.name))
    return tree


def _tree(root: int, tree: dict[int, list[int]]) -> list[int]:
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(tree.get(pid, []))
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _has_engine(pid: int) -> bool:
    try:
        return "onnxruntime" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def listener_pid(port: int) -> int | None:
    """The process holding the socket that listens on 127.0.0.1/0.0.0.0:``port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            parts = line.split()
            if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(parts[9])
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                link = os.readlink(fd)
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(entry.name)
        except OSError:
            continue
    return None


def machine_cpu() -> float:
    """All CPU time of the host (user + nice + system + irq + softirq + steal), ms."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    busy = [int(fields[i]) for i in (0, 1, 2, 5, 6, 7)]
    return sum(busy) * TICK_MS


# --- Process groups ------------------------------------------------------------------------


def _worker_roles(supervisor: int, tree: dict[int, list[int]], label: str) -> dict[int, str]:
    """`manage.py worker` -> qcluster -> sentinel -> q-workers, monitor, pusher."""
    roles = {supervisor: f"{label} supervisor"}
    for qcluster in tree.get(supervisor, []):
        roles[qcluster] = f"{label} qcluster"
        for sentinel in tree.get(qcluster, []):
            roles[sentinel] = f"{label} sentinel"
            helpers = []
            for child in sorted(tree.get(sentinel, [])):
                title = _cmdline(child)  # django-q2 names them with setproctitle
                if _has_engine(child) or " idle" in title or " processing" in title:
                    for pid in _tree(child, tree):
                        roles[pid] = f"{label} q-worker"
                elif title.endswith(("monitor ", "monitor", "pusher ", "pusher")):
                    roles[child] = f"{label} {title.split()[-1]}"
                else:
                    helpers.append(child)
            for pid, role in zip(helpers, ("monitor", "pusher"), strict=False):
                roles.setdefault(pid, f"{label} {role}")
    return roles


def groups(machines: list[Machine], services: dict[str, int]) -> dict[str, list[int]]:
    """Process group name -> its pids, now."""
    tree = _children()
    roles: dict[int, str] = {}
    for machine in machines:
        assert machine.process is not None
        for pid in _tree(machine.process.pid, tree):
            if pid in roles:
                continue
            if "manage.py worker" in _cmdline(pid):
                label = "worker" if machine.name == "web" else machine.name
                roles.update(_worker_roles(pid, tree, label))
            else:
                roles.setdefault(pid, machine.name)
    for name, root in services.items():
        for pid in _tree(root, tree):
            roles[pid] = name
    roles[os.getpid()] = "client"
    out: dict[str, list[int]] = defaultdict(list)
    for pid, role in roles.items():
        out[role].append(pid)
    return out


def snapshot(machines: list[Machine], services: dict[str, int]) -> dict[str, float]:
    """CPU ms so far of each group, and of the whole host ("all")."""
    # The whole tree is walked each time: processes started since (postgres backends,
    # a respawned q-worker) count, and ended ones live on in their parent's cutime.
    out = {"all": machine_cpu()}
    for name, pids in groups(machines, services).items():
        own = [_stat(pid) for pid in pids]
        out[name] = sum(found[1] for found in own if found is not None)
    if "client" in out:  # this process's threads, without waiting for them to end
        times = os.times()
        out["client"] = (times.user + times.system) * 1000
    return out


def _difference(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    diff = {name: after[name] - before.get(name, 0.0) for name in after}
    diff["other"] = diff.pop("all") - sum(diff.values())
    return diff


# --- The measurement -----------------------------------------------------------------------


def service_pids(services: Services) -> dict[str, int]:
    """postgres / redis / moto: the processes listening on the services' ports."""
    ports: dict[str, int] = {}
    if services.database_url.startswith("postgres"):
        ports["postgres"] = urlsplit(services.database_url).port or 5432
    if services.redis_url:
        ports["redis"] = urlsplit(services.redis_url).port or 6379
    if services.storage_url:
        endpoint = parse_qs(urlsplit(services.storage_url).query).get("endpoint_url", [""])[0]
        if endpoint:
            ports["moto"] = urlsplit(endpoint).port or 80
    found = {name: listener_pid(port) for name, port in ports.items()}
    return {name: pid for name, pid in found.items() if pid is not None}


def measure_cpu(
    setup: str,
    client: throughput.Client,
    args: argparse.Namespace,
    web: Machine,
    machines: list[Machine],
) -> dict[str, Any]:
    client.wait([client.submit()[0] for _ in range(2)])  # warm-up: models, connections
    services = service_pids(web.services)
    time.sleep(1.0)
    idle_start = snapshot(machines, services)
    time.sleep(IDLE_S)
    idle_end = snapshot(machines, services)
    jobs, started, _ = throughput.burst_phase(client, args.jobs)
    burst_end = snapshot(machines, services)
    finished = max(throughput._ts(job["completed_at"]) for job in jobs)
    return {
        "setup": setup,
        "jobs": len(jobs),
        "jobs_per_s": round(len(jobs) / (finished - started), 2),
        "median_processing_ms": statistics.median(job["processing_ms"] for job in jobs),
        "timings_ms": job_timings(web, [job["id"] for job in jobs]),
        "burst_ms_per_job": {
            name: round(ms / len(jobs), 1) for name, ms in _difference(burst_end, idle_end).items()
        },
        "idle_ms_per_s": {
            name: round(ms / IDLE_S, 1) for name, ms in _difference(idle_end, idle_start).items()
        },
    }


TIMINGS = (
    "import json; from swaps.models import SwapJob; "
    "print(json.dumps([j.timings for j in SwapJob.objects.filter(pk__in={ids!r})]))"
)


def job_timings(web: Machine, job_ids: list[str]) -> dict[str, float]:
    """Mean of each step the jobs timed themselves (decode includes reading the inputs)."""
    out = web.run("manage.py", "shell", "-c", TIMINGS.format(ids=job_ids))
    rows = json.loads(out.strip().splitlines()[-1])
    steps = sorted({step for row in rows for step in row})
    return {s: round(statistics.mean(row.get(s, 0.0) for row in rows), 1) for s in steps}


def report(results: list[dict[str, Any]]) -> None:
    for result in results:
        print(
            f"\n{result['setup']}: {result['jobs']} jobs, {result['jobs_per_s']} jobs/s, "
            f"median processing_ms {result['median_processing_ms']}"
        )
        print("  job timings (mean ms): " + json.dumps(result["timings_ms"]))
        burst, idle = result["burst_ms_per_job"], result["idle_ms_per_s"]
        print(f"  {'process group':<26}{'burst CPU ms/job':>18}{'idle CPU ms/s':>16}")
        for name in sorted(burst, key=lambda n: (n == "other", n)):
            print(f"  {name:<26}{burst[name]:>18.1f}{idle.get(name, 0.0):>16.1f}")
        named = sum(ms for name, ms in burst.items() if name != "other")
        print(f"  {'total (without other)':<26}{named:>18.1f}")
    print(json.dumps(results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--s3-endpoint", default="")
    parser.add_argument("--only", choices=["embedded", "services"], default=None)
    args = parser.parse_args()
    pair = throughput.one_megapixel_pair()
    root = Path(tempfile.mkdtemp(prefix="faceswap-jobcpu-"))
    results = []
    try:
        if args.only != "services":
            (root / "embedded").mkdir()
            embedded = Services(database_url=f"sqlite:///{root / 'embedded' / 'db.sqlite3'}")
            results.append(
                throughput.run_setup(
                    "embedded", embedded, root / "embedded", args, pair, measure_cpu
                )
            )
        if args.only != "embedded" and args.database_url and args.redis_url:
            results.append(
                throughput.with_services(
                    args,
                    root,
                    lambda s: throughput.run_setup(
                        "services", s, root / "services", args, pair, measure_cpu
                    ),
                )
            )
        report(results)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
