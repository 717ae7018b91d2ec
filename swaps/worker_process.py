"""How a worker process shares the host with web processes: a lower CPU priority, and
OpenCV's thread pool sized to the cores per worker.

On a shared host the web process, the clients and the workers compete for the same
cores; a submit that waits behind engine work is a slow answer for a user, while a job
that waits a few ms more is not noticed (benchmarks/throughput.py, docs/benchmarks.md).
"""

from __future__ import annotations

import os


def lower_priority(niceness: int) -> int:
    """Run this process (and what it starts later) at ``niceness`` unless it already runs
    nicer; never raises priority. Returns the niceness now in force."""
    current = os.getpriority(os.PRIO_PROCESS, 0)
    if niceness > current:
        os.setpriority(os.PRIO_PROCESS, 0, niceness)
    return os.getpriority(os.PRIO_PROCESS, 0)


def size_engine_threads(threads: int) -> None:
    """OpenCV's parallel loops (resize, blending, the detector's DNN) in this process use
    at most ``threads`` threads."""
    from swaps import engine

    engine.set_threads(threads)
