"""A job whose worker died ends (run again, or failed and refunded once) within seconds."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from faceswap_site.processes import this_process
from swaps import heartbeat, recovery, services
from swaps.models import JobStatus, SwapJob
from tests.helpers import credits_of

pytestmark = pytest.mark.django_db


def claimed_by_a_worker_then_killed(job: SwapJob) -> SwapJob:
    """Claim ``job`` as a separate worker process would, then kill that process -9."""
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    SwapJob.objects.filter(pk=job.pk).update(
        status=JobStatus.PROCESSING,
        claimed_at=timezone.now(),
        attempts=1,
        worker=f"{socket.gethostname()}:{worker.pid}",
        heartbeat_at=timezone.now(),
    )
    worker.kill()
    worker.wait()
    return SwapJob.objects.get(pk=job.pk)


def test_a_claim_records_the_worker_and_its_heartbeat(pending_job):
    job = services.claim_swap_job(job_id=pending_job.pk)
    assert job.worker == this_process()
    assert job.heartbeat_at is not None and job.attempts == 1


def test_a_job_whose_worker_was_killed_runs_again_at_once(
    pending_job, account, django_capture_on_commit_callbacks
):
    claimed_by_a_worker_then_killed(pending_job)
    before = credits_of(account)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):  # the re-enqueued task runs
        assert recovery.recover_orphaned_jobs() == 1
    job = SwapJob.objects.get(pk=pending_job.pk)
    assert job.status == JobStatus.COMPLETED and job.attempts == 2
    assert credits_of(account) == before  # charged once, never twice
    assert time.monotonic() - started < 60


def test_a_job_orphaned_twice_fails_and_is_refunded_once(pending_job, account):
    job = claimed_by_a_worker_then_killed(pending_job)
    SwapJob.objects.filter(pk=job.pk).update(attempts=recovery.MAX_ATTEMPTS)
    before = credits_of(account)
    assert recovery.recover_orphaned_jobs() == 1
    assert recovery.recover_orphaned_jobs() == 0  # already ended: nothing more
    job = SwapJob.objects.get(pk=pending_job.pk)
    assert (job.status, job.error_code) == (JobStatus.FAILED, "processing_failed")
    assert credits_of(account) == before + job.cost


def test_a_silent_worker_on_another_machine_is_taken_over(pending_job):
    long_ago = timezone.now() - timedelta(seconds=recovery.DEAD_AFTER_S + 5)
    SwapJob.objects.filter(pk=pending_job.pk).update(
        status=JobStatus.PROCESSING,
        claimed_at=long_ago,
        attempts=1,
        worker="another-host:4242",
        heartbeat_at=long_ago,
    )
    assert [j.pk for j in recovery.orphaned_jobs()] == [pending_job.pk]


def test_a_live_worker_with_a_fresh_heartbeat_is_left_alone(pending_job):
    services.claim_swap_job(job_id=pending_job.pk)  # this test process is the worker
    assert recovery.orphaned_jobs() == []
    assert recovery.recover_orphaned_jobs() == 0


@pytest.mark.django_db(transaction=True)  # the beat writes from its own thread
def test_the_heartbeat_is_renewed_while_the_job_runs(pending_job, monkeypatch):
    monkeypatch.setattr(heartbeat, "HEARTBEAT_S", 0.05)
    first = timezone.now() - timedelta(minutes=1)
    SwapJob.objects.filter(pk=pending_job.pk).update(  # (here the sync worker ran it already)
        status=JobStatus.PROCESSING, worker=this_process(), heartbeat_at=first
    )
    job = SwapJob.objects.get(pk=pending_job.pk)
    with heartbeat.heartbeat(job):
        time.sleep(0.3)
    assert SwapJob.objects.get(pk=job.pk).heartbeat_at > first


def test_a_new_worker_enqueues_jobs_stuck_in_a_dead_clusters_broker(pending_job, monkeypatch):
    queued = []
    monkeypatch.setattr(services, "enqueue_swap_job", lambda *, job_id: queued.append(job_id))
    later = timezone.now() + timedelta(seconds=recovery.REQUEUE_PENDING_AFTER_S + 1)
    assert recovery.requeue_waiting_jobs(now=later) == 1
    assert queued == [pending_job.pk]


def test_a_real_worker_start_recovers_but_sync_mode_does_not(pending_job, monkeypatch):
    from django_q.conf import Conf

    calls = []
    monkeypatch.setattr(recovery, "recover_orphaned_jobs", lambda: calls.append("recover"))
    monkeypatch.setattr(recovery, "requeue_waiting_jobs", lambda: calls.append("requeue"))
    recovery.on_worker_start()  # the suite runs django-q2 in sync mode
    assert calls == []
    monkeypatch.setattr(Conf, "SYNC", False)
    recovery.on_worker_start()
    assert calls == ["recover", "requeue"]


def _age(job: SwapJob, seconds: float, **fields: object) -> None:
    SwapJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - timedelta(seconds=seconds), **fields
    )


def test_a_cluster_that_takes_no_job_while_jobs_wait_is_stalled(pending_job):
    assert not recovery.cluster_stalled()  # a job just made is on its way
    _age(pending_job, recovery.STALL_AFTER_S + 5)
    assert recovery.cluster_stalled()


def test_a_cluster_running_a_long_job_is_not_stalled(pending_job, account, upload):
    _age(pending_job, recovery.STALL_AFTER_S + 5)
    other = SwapJob.objects.create(account=account, cost=1)
    long_ago = timezone.now() - timedelta(seconds=recovery.STALL_AFTER_S + 60)
    SwapJob.objects.filter(pk=other.pk).update(
        status=JobStatus.PROCESSING, claimed_at=long_ago, heartbeat_at=timezone.now()
    )
    assert not recovery.cluster_stalled()


def test_a_cluster_that_just_claimed_a_job_is_not_stalled(pending_job, account):
    _age(pending_job, recovery.STALL_AFTER_S + 5)
    other = SwapJob.objects.create(account=account, cost=1)
    SwapJob.objects.filter(pk=other.pk).update(
        status=JobStatus.COMPLETED, claimed_at=timezone.now()
    )
    assert not recovery.cluster_stalled()


def test_a_pending_job_the_broker_lost_is_enqueued_again(pending_job, monkeypatch):
    # Redis hands a task out once: here the job's task is gone and the queue is empty.
    enqueued = []
    monkeypatch.setattr(services, "enqueue_swap_job", lambda *, job_id: enqueued.append(job_id))
    now = timezone.now()

    assert recovery.requeue_lost_jobs(now=now) == 0  # young: maybe on its way still
    assert recovery.requeue_lost_jobs(now=now + timedelta(seconds=61)) == 1
    assert enqueued == [pending_job.pk]


def test_nothing_is_called_lost_while_the_broker_holds_tasks(pending_job, monkeypatch):
    class Busy:
        def queue_size(self) -> int:
            return 3

    monkeypatch.setattr(recovery, "get_broker", lambda: Busy())
    assert recovery.requeue_lost_jobs(now=timezone.now() + timedelta(hours=1)) == 0
