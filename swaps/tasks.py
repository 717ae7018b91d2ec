"""django-q2 entry points: thin, by id; the work lives in swaps.services."""

from __future__ import annotations

import logging
from typing import Any

from swaps import recovery, services, webhooks
from swaps.models import SwapJob

logger = logging.getLogger(__name__)


def process_swap_job(job_id: str) -> None:
    services.run_swap_job(job_id=job_id)


def on_swap_task_finished(task: Any) -> None:
    """Hook: a task that died (timeout, crash) must not leave its job 'processing'."""
    if task.success:
        return
    job_id = task.args[0] if task.args else None
    job = SwapJob.objects.filter(pk=job_id).first() if job_id else None
    if job is not None:
        logger.warning("swap %s: worker task failed", job_id)
        services.fail_swap_job(
            job=job,
            code="processing_failed",
            message="The worker stopped before the swap finished.",
        )


def fail_stale_swap_jobs() -> int:
    return services.fail_stale_swap_jobs()


def recover_orphaned_swap_jobs() -> int:
    return recovery.recover_orphaned_jobs()


def requeue_lost_swap_jobs() -> int:
    return recovery.requeue_lost_jobs()


def erase_leftover_inputs() -> int:
    return services.erase_leftover_inputs()


def purge_expired_results() -> int:
    return services.purge_expired_results()


def deliver_webhook(delivery_id: int) -> None:
    webhooks.deliver(delivery_id=delivery_id)


def deliver_due_webhooks() -> int:
    return webhooks.deliver_due()
