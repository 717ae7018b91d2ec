"""Workers yield the CPU to web requests: niceness and OpenCV's thread pool (read in fresh
processes where the process itself changes: a test must not renice the test runner)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
from django_q.signals import post_spawn

ROOT = Path(__file__).resolve().parent.parent


def _python(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        check=False,
    )


SETTINGS = (
    "import json; from faceswap_site import settings as s; "
    "print(json.dumps([s.WORKER_NICE, s.WORKER_CV_THREADS]))"
)


def test_workers_run_nicer_by_default_with_the_cores_shared_among_them(tmp_path):
    done = _python(SETTINGS, tmp_path, WORKER_PROCESSES=str(os.cpu_count() or 1))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == [10, 1]


def test_worker_priority_and_threads_are_settings(tmp_path):
    done = _python(SETTINGS, tmp_path, WORKER_NICE="0", WORKER_CV_THREADS="3")
    assert json.loads(done.stdout.splitlines()[-1]) == [0, 3]


def test_a_niceness_out_of_range_stops_the_start(tmp_path):
    done = _python(SETTINGS, tmp_path, WORKER_NICE="20")
    assert done.returncode != 0
    assert "WORKER_NICE must be 0..19" in done.stderr


LOWER = (
    "import os, json; from swaps.worker_process import lower_priority; "
    "first = lower_priority(7); again = lower_priority(3); "
    "child = os.popen('cut -d\" \" -f19 /proc/self/stat').read().strip(); "
    "print(json.dumps([first, again, int(child)]))"
)


def test_lower_priority_only_lowers_and_children_inherit_it(tmp_path):
    done = _python(LOWER, tmp_path)
    assert done.returncode == 0, done.stderr
    base = os.getpriority(os.PRIO_PROCESS, 0)
    first, again, child = json.loads(done.stdout.splitlines()[-1])
    assert first == max(base, 7)
    assert again == first  # asking for a higher priority changes nothing
    assert child == first  # what the process starts (the cluster, its workers) inherits it


def test_a_new_worker_process_sizes_opencv_threads(settings):
    before = cv2.getNumThreads()
    settings.WORKER_CV_THREADS = 1
    try:
        post_spawn.send(sender="test", proc_name="Worker-1")
        assert cv2.getNumThreads() == 1
    finally:
        cv2.setNumThreads(before)
