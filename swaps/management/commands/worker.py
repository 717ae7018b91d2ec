"""The django-q2 cluster (`qcluster`), restarted when it stops taking jobs.

Use this rather than `qcluster` to run workers. A worker killed while it waits for a
task (the OOM killer picks a big idle one) leaves django-q2's task queue locked and the
whole cluster stuck; every 5 s this checks `swaps.recovery.cluster_stalled` and, when
stuck, kills the cluster and starts it again (recovery then re-enqueues what waited).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from faceswap_site.startup import wait_for_database
from swaps import worker_process
from swaps.recovery import STALL_AFTER_S, cluster_stalled

CHECK_EVERY_S = 5.0


class Command(BaseCommand):
    help = "Run the django-q2 cluster; restart it when it is stuck."

    def handle(self, *args: Any, **options: Any) -> None:
        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        # Before the cluster starts: it and every worker process it forks inherit this.
        worker_process.lower_priority(settings.WORKER_NICE)
        wait_for_database()  # a worker that starts first waits instead of crashing
        while not stopping:
            cluster = subprocess.Popen(
                # Same process group as this command: whoever stops the service (a
                # signal to the group) stops the cluster too.
                [sys.executable, "manage.py", "qcluster"]
            )
            reason = _watch(cluster, lambda: stopping)
            _end(cluster)
            if reason == "exited" and not stopping:
                sys.exit(cluster.returncode or 1)
            if reason == "stalled":
                self.stderr.write(
                    f"worker: the cluster took no job for {STALL_AFTER_S:.0f} s "
                    "while jobs waited; restarting it"
                )


def _watch(cluster: subprocess.Popen, stopping: Any) -> str:
    next_check = time.monotonic() + CHECK_EVERY_S
    while not stopping():
        if cluster.poll() is not None:
            return "exited"
        if time.monotonic() >= next_check:
            close_old_connections()
            if cluster_stalled():
                return "stalled"
            next_check = time.monotonic() + CHECK_EVERY_S
        time.sleep(0.3)
    return "stopping"


def _end(cluster: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL to every process of the cluster (stuck workers ignore TERM)."""
    family = _descendants(cluster.pid)  # before the parent goes: they are reparented then
    if cluster.poll() is None:
        cluster.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            cluster.wait(timeout=15)
    for pid in [cluster.pid, *family, *_descendants(cluster.pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    cluster.wait()


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return found
