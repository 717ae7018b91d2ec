"""Which worker runs a job, and its heartbeat while it does (see swaps.recovery)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection
from django.utils import timezone

from swaps.models import JobStatus, SwapJob

HEARTBEAT_S = 5.0


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
