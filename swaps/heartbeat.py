"""Which worker runs a job, its heartbeat while it does (see swaps.recovery), and the
frames it has swapped (the job page's progress)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection
from django.utils import timezone

from swaps.models import JobStatus, SwapJob

HEARTBEAT_S = 5.0
FRAME_REPORT_S = 0.2


@contextmanager
def heartbeat(job: SwapJob) -> Iterator[None]:
    """Renew ``job``'s heartbeat every HEARTBEAT_S while the block runs (a thread:
    the engine releases the GIL in OpenCV, so the beat keeps time)."""
    stop = threading.Event()

    def beat() -> None:
        beats = 0
        try:
            while not stop.wait(HEARTBEAT_S):
                SwapJob.objects.filter(
                    pk=job.pk, status=JobStatus.PROCESSING, worker=job.worker
                ).update(heartbeat_at=timezone.now())
                beats += 1
        finally:
            # The thread's own connection, once it opened one; never a connection the
            # test framework shares between threads.
            if beats and not connection.allow_thread_sharing:
                connection.close()

    thread = threading.Thread(target=beat, name=f"heartbeat-{job.pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=HEARTBEAT_S)


def frame_reporter(job: SwapJob) -> Callable[[int], None]:
    """Writes frames done for the job page, at most every FRAME_REPORT_S (one UPDATE)."""
    last = 0.0

    def report(done: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= FRAME_REPORT_S:
            last = now
            SwapJob.objects.filter(pk=job.pk).update(frames_done=done)

    return report
