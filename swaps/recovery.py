"""Jobs whose worker died: taken back within seconds, run again once, else failed.

A claimed job records its worker ("host:pid") and a heartbeat the worker renews
every few seconds while it swaps (swaps.heartbeat). A job is orphaned when its
worker's process is gone (same host: checked directly) or its heartbeat is older
than DEAD_AFTER_S (any host). ``recover_orphaned_jobs`` runs when a worker process
starts (django-q2 respawns a killed worker at once, and a restarted service starts
new ones) and every minute: an orphan goes back to pending and is enqueued again,
once; orphaned a second time it fails and is refunded. Duplicate deliveries are
harmless: a job is only ever claimed by one conditional update.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf

from faceswap_site.processes import process_alive
from swaps import services
from swaps.models import JobStatus, SwapJob

logger = logging.getLogger(__name__)

DEAD_AFTER_S = 20.0  # four missed heartbeats
MAX_ATTEMPTS = 2  # the first run and one more after its worker died
# Pending jobs older than this when a worker starts may sit in a dead cluster's broker
# lock (the ORM broker hides a taken task for Q_CLUSTER["retry"] seconds); younger ones
# are still on their way. A second delivery of a job is a no-op.
REQUEUE_PENDING_AFTER_S = 1.0
# A cluster that claimed nothing for this long while jobs wait, and runs nothing, is stuck.
STALL_AFTER_S = 20.0
# A job pending this long while the broker holds no task at all was lost by the broker.
LOST_AFTER_S = 60.0


def orphaned_jobs(*, now: Any = None) -> list[SwapJob]:
    """Processing jobs whose worker is gone or silent."""
    cutoff = (now or timezone.now()) - timedelta(seconds=DEAD_AFTER_S)

    def silent(job: SwapJob) -> bool:
        last = job.heartbeat_at or job.claimed_at
        return last is None or last < cutoff

    running = SwapJob.objects.filter(status=JobStatus.PROCESSING)
    return [job for job in running if silent(job) or not process_alive(job.worker)]


def recover_orphaned_jobs(*, now: Any = None) -> int:
    """Take back every orphaned job (see the module docstring); how many."""
    count = 0
    for job in orphaned_jobs(now=now):
        if job.attempts < MAX_ATTEMPTS and _requeue(job):
            logger.warning("swap %s: worker %s is gone, running it again", job.pk, job.worker)
            count += 1
        elif services.fail_swap_job(
            job=job,
            code="processing_failed",
            message="The worker stopped before the swap finished.",
        ):
            count += 1
    return count


def _requeue(job: SwapJob) -> bool:
    with transaction.atomic():
        moved = SwapJob.objects.filter(
            pk=job.pk, status=JobStatus.PROCESSING, worker=job.worker
        ).update(status=JobStatus.PENDING, worker="", heartbeat_at=None)
        if moved == 1:
            transaction.on_commit(lambda: services.enqueue_swap_job(job_id=job.pk))
    return moved == 1


def requeue_waiting_jobs(*, now: Any = None) -> int:
    """Enqueue again pending jobs old enough to be stuck in a dead cluster's broker lock."""
    cutoff = (now or timezone.now()) - timedelta(seconds=REQUEUE_PENDING_AFTER_S)
    waiting = list(
        SwapJob.objects.visible()
        .filter(status=JobStatus.PENDING, created_at__lt=cutoff)
        .values_list("pk", flat=True)
    )
    for job_id in waiting:
        services.enqueue_swap_job(job_id=job_id)
    return len(waiting)


def requeue_lost_jobs(*, now: Any = None) -> int:
    """Enqueue again pending jobs that no broker task stands for any more.

    Redis hands a task out once, with no acknowledgement: a cluster (a machine) that dies
    holding one it had not started loses it. When the broker's queue is empty, a job still
    pending after LOST_AFTER_S has no task left; a duplicate delivery is a no-op (the claim)."""
    if get_broker().queue_size():
        return 0  # jobs still wait their turn: nothing can be told lost yet
    cutoff = (now or timezone.now()) - timedelta(seconds=LOST_AFTER_S)
    lost = list(
        SwapJob.objects.visible()
        .filter(status=JobStatus.PENDING, created_at__lt=cutoff)
        .values_list("pk", flat=True)
    )
    for job_id in lost:
        logger.warning("swap %s: pending with no broker task, enqueued again", job_id)
        services.enqueue_swap_job(job_id=job_id)
    return len(lost)


def cluster_stalled(*, now: Any = None) -> bool:
    """Jobs have waited STALL_AFTER_S, none was claimed meanwhile, and none is running.

    A django-q2 worker killed while it waits for a task dies holding the task queue's
    lock: its replacement, and every other worker, then wait forever. Only a restart
    of the cluster frees them (`manage.py worker` does it)."""
    cutoff = (now or timezone.now()) - timedelta(seconds=STALL_AFTER_S)
    fresh = (now or timezone.now()) - timedelta(seconds=DEAD_AFTER_S)
    jobs = SwapJob.objects.visible()
    return (
        jobs.filter(status=JobStatus.PENDING, created_at__lt=cutoff).exists()
        and not jobs.filter(claimed_at__gte=cutoff).exists()
        and not jobs.filter(status=JobStatus.PROCESSING, heartbeat_at__gte=fresh).exists()
    )


def on_worker_start(**kwargs: Any) -> None:
    """django-q2 post_spawn: a new worker process takes back what dead ones left.

    Not in django-q2's sync mode (tests, Q_SYNC): there every task "spawns" a worker
    in the calling process, inside its transaction."""
    if Conf.SYNC:
        return
    try:
        recover_orphaned_jobs()
        requeue_waiting_jobs()
    except Exception:  # never keep a worker from starting
        logger.exception("recovering orphaned swap jobs failed")
