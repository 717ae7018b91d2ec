"""The swaps half of "delete my account" and "download my data".

accounts.services sends accounts.signals.account_closing / account_export; these
receivers (connected in SwapsConfig.ready) erase or describe the account's jobs, their
images and results, and its saved faces. Files go through the storage API only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction

from accounts.models import Account
from swaps import services
from swaps.models import FINAL_STATUSES, SavedFace, SwapJob
from swaps.signing import result_path

logger = logging.getLogger(__name__)


def erase_account_swaps(*, account: Account) -> int:
    """Cancel the account's unfinished jobs (refunded), erase every file, delete the rows.

    A worker still running one of its jobs finds it gone when it ends and keeps nothing
    (services._complete_swap_job deletes a result nobody can claim). Safe to run twice.
    """
    jobs = list(SwapJob.objects.filter(account=account))
    for job in jobs:
        if job.status not in FINAL_STATUSES:
            services.fail_swap_job(
                job=job,
                code="cancelled",
                message="Cancelled: the account was deleted.",
                from_status=job.status,
                notify=False,
            )
        services.erase_job_files(job=job)
    with transaction.atomic():
        # Ledger entries keep their amounts, dates and reasons ("swap job <id>"); their
        # link to the job row becomes NULL (on_delete=SET_NULL).
        SwapJob.objects.filter(account=account).delete()
        SavedFace.objects.filter(account=account).delete()
    logger.info("account %s: %d swap jobs and all saved faces erased", account.pk, len(jobs))
    return len(jobs)


def export_account_swaps(*, account: Account, absolute_url: Callable[[str], str]) -> dict[str, Any]:
    """The account's job history and saved faces (names), for its data export."""
    jobs = SwapJob.objects.filter(account=account).prefetch_related("inputs").order_by("created_at")
    faces = SavedFace.objects.owned_by(account).order_by("created_at")
    return {
        "swaps": [_job_part(job, absolute_url) for job in jobs],
        "saved_faces": [
            {"id": str(face.pk), "name": face.name, "created_at": face.created_at.isoformat()}
            for face in faces
        ],
    }


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment else None


def _job_part(job: SwapJob, absolute_url: Callable[[str], str]) -> dict[str, Any]:
    path = result_path(job) if job.deleted_at is None else None
    return {
        "id": str(job.pk),
        "status": job.status,
        "created_at": _iso(job.created_at),
        "completed_at": _iso(job.completed_at),
        "deleted_at": _iso(job.deleted_at),
        "processing_ms": job.processing_ms,
        "timings": job.timings,
        "cost": job.cost,
        "options": job.options,
        "output_format": job.output_format,
        "client_reference": job.client_reference,
        "consent": job.consent,
        "webhook_url": job.webhook_url,
        "faces": job.faces,
        "error": {"code": job.error_code, "message": job.error_message} if job.error_code else None,
        "inputs": [
            {"role": row.role, "position": row.position, "format": row.format}
            | {"width": row.width, "height": row.height, "size_bytes": row.size_bytes}
            for row in job.inputs.all()
        ],
        "result_url": absolute_url(path) if path else None,
        "result_expires_at": _iso(job.result_expires_at) if path else None,
    }


def on_account_closing(sender: Any, *, account: Account, **kwargs: Any) -> None:
    erase_account_swaps(account=account)


def on_account_export(
    sender: Any, *, account: Account, absolute_url: Callable[[str], str], **kwargs: Any
) -> dict[str, Any]:
    return export_account_swaps(account=account, absolute_url=absolute_url)
