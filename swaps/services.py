"""Workflows across models: create a swap job, run it, end it, erase it."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from accounts import quotas
from accounts.models import Account, ApiKey
from swaps import engine
from swaps.imaging import ImageInputError, decode_image, encode_image
from swaps.inputs import ImageInput, read_image_input
from swaps.models import InputRole, JobStatus, SwapInput, SwapJob
from swaps.previews import make_preview
from swaps.watermark import add_watermark
from swaps.webhooks import notify_job_ended

logger = logging.getLogger(__name__)

OUTPUT_FORMATS = ("jpeg", "png", "webp")
STILL_IMAGE_COST = 1


@dataclass(frozen=True)
class SwapOptions:
    source_face: int = 0
    target_face: int = 0
    output_format: str | None = None  # None: the target's format
    return_base64: bool = False
    client_reference: str = ""
    watermark: bool | None = None  # None: the plan's default
    webhook_url: str = ""  # checked by swaps.webhooks.check_webhook_url

    def as_json(self, *, plan_watermarks: bool) -> dict[str, Any]:
        watermark = plan_watermarks if self.watermark is None else self.watermark
        return {"source_face": self.source_face, "target_face": self.target_face,
                "watermark": watermark}


@dataclass
class _Outcome:
    image: bytes
    faces: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)


# --- Creating -------------------------------------------------------------------------

def create_swap_job(*, account: Account, api_key: ApiKey | None,
                    target_image: UploadedFile | str, source_image: UploadedFile | str,
                    options: SwapOptions, keep_previews: bool = False) -> SwapJob:
    """Read and check both images, charge, store the job and enqueue it once committed.

    Input errors come before the charge, so bad input never costs credits.

    keep_previews: also keep small copies of the inputs for the browser's result page.
    """
    target = read_image_input(target_image, field="target_image")
    source = read_image_input(source_image, field="source_image")
    output_format = options.output_format or _default_output_format(target)
    stored: list[SwapInput] = []
    try:
        with transaction.atomic():
            job = SwapJob.objects.create(
                account=account, api_key=api_key,
                options=options.as_json(plan_watermarks=account.plan.watermark_by_default),
                output_format=output_format, return_base64=options.return_base64,
                client_reference=options.client_reference, cost=STILL_IMAGE_COST,
                webhook_url=options.webhook_url,
            )
            quotas.charge_for_job(account=account, job=job)  # 402 rolls the job back
            for role, image in ((InputRole.TARGET, target), (InputRole.SOURCE, source)):
                stored.append(_store_input(job, role, 0, image, keep_preview=keep_previews))
            transaction.on_commit(lambda: enqueue_swap_job(job_id=job.pk))
    except Exception:
        for row in stored:  # a rolled-back job must not leave images on disk
            _erase_files(row.file, row.preview)
        raise
    return job


def _default_output_format(target: ImageInput) -> str:
    return target.info.format if target.info.format in OUTPUT_FORMATS else "png"


def _store_input(job: SwapJob, role: str, position: int, image: ImageInput, *,
                 keep_preview: bool) -> SwapInput:
    row = SwapInput(job=job, role=role, position=position, format=image.info.format,
                    width=image.info.width, height=image.info.height,
                    size_bytes=len(image.data))
    row.file.save("input", ContentFile(image.data), save=False)
    preview = make_preview(image.data) if keep_preview else None
    if preview:
        row.preview.save("preview", ContentFile(preview), save=False)
    row.save()
    return row


def enqueue_swap_job(*, job_id: uuid.UUID) -> None:
    async_task("swaps.tasks.process_swap_job", str(job_id),
               hook="swaps.tasks.on_swap_task_finished", task_name=f"swap-{job_id}")


# --- Running --------------------------------------------------------------------------

def claim_swap_job(*, job_id: uuid.UUID | str) -> SwapJob | None:
    """Move a pending job to processing; None if another worker (or run) got it first."""
    now = timezone.now()
    claimed = (SwapJob.objects.visible().filter(pk=job_id, status=JobStatus.PENDING)
               .update(status=JobStatus.PROCESSING, claimed_at=now, attempts=1))
    if claimed != 1:
        return None
    return SwapJob.objects.get(pk=job_id)


def run_swap_job(*, job_id: uuid.UUID | str) -> None:
    job = claim_swap_job(job_id=job_id)
    if job is None:
        logger.info("swap %s: not pending, skipped", job_id)
        return
    started = time.perf_counter()
    try:
        outcome = _swap(job)
    except (engine.EngineError, ImageInputError) as exc:
        fail_swap_job(job=job, code=exc.code, message=exc.message, details=exc.details)
    except Exception:
        logger.exception("swap %s: unexpected failure", job.pk)
        fail_swap_job(job=job, code="processing_failed", message="The swap could not be processed.")
    else:
        elapsed_ms = round((time.perf_counter() - started) * 1000)
        _complete_swap_job(job, outcome, processing_ms=elapsed_ms)


def _swap(job: SwapJob) -> _Outcome:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    images = {row.role: _decode_input(row) for row in job.inputs.all()}
    timings["decode"] = _ms_since(t0)
    result = engine.swap(images[InputRole.SOURCE], images[InputRole.TARGET],
                         source_face=job.options.get("source_face", 0),
                         target_face=job.options.get("target_face", 0))
    timings.update(result.timings_ms)
    t1 = time.perf_counter()
    image = add_watermark(result.image) if job.options.get("watermark") else result.image
    data = encode_image(image, job.output_format, note=settings.OUTPUT_NOTE)
    timings["encode"] = _ms_since(t1)
    return _Outcome(image=data, faces=result.faces, timings=timings)


def _decode_input(row: SwapInput) -> Any:
    with row.file.open("rb") as handle:
        data = handle.read()
    return decode_image(data, image=f"{row.role}_image",
                        max_pixels=settings.MAX_IMAGE_PIXELS).array


def _ms_since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)


# --- Ending ---------------------------------------------------------------------------

def _complete_swap_job(job: SwapJob, outcome: _Outcome, *, processing_ms: int) -> None:
    job.result.save(f"{uuid.uuid4().hex}.{job.output_format}", ContentFile(outcome.image),
                    save=False)
    with transaction.atomic():
        updated = SwapJob.objects.visible().filter(pk=job.pk, status=JobStatus.PROCESSING).update(
            status=JobStatus.COMPLETED, completed_at=timezone.now(), result=job.result.name,
            processing_ms=processing_ms, faces=outcome.faces, timings=outcome.timings,
        )
        if updated == 1:
            notify_job_ended(job)
    if updated != 1:
        # Deleted or reaped while we worked: keep nothing.
        job.result.delete(save=False)
    erase_inputs(job=job)


def fail_swap_job(*, job: SwapJob, code: str, message: str,
                  details: dict[str, Any] | None = None,
                  from_status: str = JobStatus.PROCESSING, notify: bool = True) -> bool:
    """End a job as failed, refund it, call its webhook; False if it had already ended."""
    with transaction.atomic():
        updated = SwapJob.objects.filter(pk=job.pk, status=from_status).update(
            status=JobStatus.FAILED, completed_at=timezone.now(), error_code=code,
            error_message=message[:500], error_details=details or {},
        )
        if updated == 1:
            quotas.refund_job(job=job, reason=f"job failed: {code}")
            if notify:
                notify_job_ended(job)
    erase_inputs(job=job)
    return updated == 1


def fail_stale_swap_jobs(*, now: Any = None) -> int:
    """Jobs left 'processing' past the worker timeout (crash, kill) end as failed."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.JOB_STALE_AFTER_S)
    stale = SwapJob.objects.filter(status=JobStatus.PROCESSING, claimed_at__lt=cutoff)
    count = 0
    for job in stale:
        count += fail_swap_job(job=job, code="processing_failed",
                               message="The worker stopped before the swap finished.")
    return count


def erase_inputs(*, job: SwapJob) -> None:
    for row in job.inputs.exclude(file=""):
        _erase_files(row.file)
        SwapInput.objects.filter(pk=row.pk).update(file="")
    SwapJob.objects.filter(pk=job.pk, inputs_deleted_at__isnull=True).update(
        inputs_deleted_at=timezone.now())


def _erase_files(*files: Any) -> None:
    for stored_file in files:
        if stored_file:
            stored_file.delete(save=False)


def _erase_previews(job: SwapJob) -> None:
    for row in job.inputs.exclude(preview=""):
        _erase_files(row.preview)
        SwapInput.objects.filter(pk=row.pk).update(preview="")


def delete_swap_job(*, job: SwapJob) -> None:
    """Erase a job's images and result; the row stays (hidden) for accounting.

    A job deleted before any worker started it is cancelled and refunded.
    """
    fail_swap_job(job=job, code="cancelled", message="Deleted before processing started.",
                  from_status=JobStatus.PENDING, notify=False)
    SwapJob.objects.filter(pk=job.pk).update(deleted_at=timezone.now(), result="")
    erase_inputs(job=job)
    _erase_previews(job)
    _erase_files(job.result)


def purge_expired_results(*, now: Any = None) -> int:
    """Results are kept only as long as their URL is valid."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.RESULT_URL_TTL_S)
    expired = SwapJob.objects.filter(status=JobStatus.COMPLETED, completed_at__lt=cutoff)
    count = 0
    for job in expired.exclude(result=""):
        _erase_files(job.result)
        _erase_previews(job)
        SwapJob.objects.filter(pk=job.pk).update(result="")
        count += 1
    return count
