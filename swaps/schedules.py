"""Periodic maintenance, registered after every migrate (idempotent)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_migrate

SCHEDULES = [
    # (name, function, minutes between runs)
    ("fail-stale-swap-jobs", "swaps.tasks.fail_stale_swap_jobs", 1),
    ("recover-orphaned-swap-jobs", "swaps.tasks.recover_orphaned_swap_jobs", 1),
    ("requeue-lost-swap-jobs", "swaps.tasks.requeue_lost_swap_jobs", 1),
    ("purge-expired-results", "swaps.tasks.purge_expired_results", 15),
    ("erase-leftover-inputs", "swaps.tasks.erase_leftover_inputs", 5),
    ("deliver-due-webhooks", "swaps.tasks.deliver_due_webhooks", 1),
    ("grant-monthly-credits", "accounts.tasks.grant_monthly_credits", 60),
    ("purge-idempotency-records", "accounts.tasks.purge_idempotency_records", 60),
]


def ensure_schedules(**kwargs: Any) -> None:
    from django_q.models import Schedule

    for name, func, minutes in SCHEDULES:
        Schedule.objects.update_or_create(
            name=name,
            defaults={
                "func": func,
                "schedule_type": Schedule.MINUTES,
                "minutes": minutes,
                "repeats": -1,
            },
        )


def connect(sender: Any) -> None:
    post_migrate.connect(ensure_schedules, sender=sender, dispatch_uid="swaps.ensure_schedules")
