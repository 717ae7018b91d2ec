"""Workflows across models: create a swap job, run it, end it, erase it."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts import idempotency, quotas
from accounts.models import Account, ApiKey
from faceswap_site.errors import ApiError
from faceswap_site.processes import this_process
from swaps import animated, broker, engine, runner
from swaps.heartbeat import frame_reporter, heartbeat
from swaps.imaging.errors import ImageInputError
from swaps.imaging.previews import make_preview
from swaps.inputs import ImageInput, read_image_input
from swaps.models import InputRole, JobStatus, SavedFace, SwapInput, SwapJob
from swaps.results import save_result_preview
from swaps.specs import MAX_SOURCES, NamedImage, SwapSpec
from swaps.stored_files import Upload, erase_files, store_files
from swaps.webhooks import notify_job_ended

logger = logging.getLogger(__name__)

# A worker erases a job's inputs as it ends; any still there this long after are leftovers.
LEFTOVER_INPUTS_AFTER_S = 300


@dataclass(frozen=True)
class _Checked:
    """A spec whose images were read and checked and whose saved faces were found."""

    spec: SwapSpec
    target: ImageInput
    sources: tuple[ImageInput, ...]
    reference: ImageInput | None
    faces: tuple[SavedFace, ...]
    frames: int = 1  # of the target: more than 1 for an animated GIF

    def output_format(self) -> str:
        return _output_format(self.spec.options.output_format, self.target, self.frames)

    def images(self) -> list[tuple[str, int, ImageInput]]:
        found = [(InputRole.TARGET, 0, self.target)]
        found += [(InputRole.SOURCE, i, image) for i, image in enumerate(self.sources)]
        if self.reference is not None:
            found.append((InputRole.REFERENCE, 0, self.reference))
        return found


# --- Creating -------------------------------------------------------------------------


def create_swap_job(
    *, account: Account, api_key: ApiKey | None, spec: SwapSpec, keep_previews: bool = False
) -> SwapJob:
    """Read and check the images, charge, store the job and enqueue it once committed.

    keep_previews: also keep small copies of the inputs for the browser's result page.
    """
    return create_swap_jobs(
        account=account, api_key=api_key, specs=[spec], keep_previews=keep_previews
    )[0]


def create_swap_jobs(
    *,
    account: Account,
    api_key: ApiKey | None,
    specs: Sequence[SwapSpec],
    keep_previews: bool = False,
) -> list[SwapJob]:
    """Several jobs from one request: all accepted and charged, or none.

    Input errors come before the charge, so bad input never costs credits. An image
    value shared by several specs is read (or fetched) once.
    """
    read = _reader()
    checked = [_check(spec, account=account, read=read) for spec in specs]
    stored: list[SwapInput] = []
    try:
        with transaction.atomic():
            jobs = [
                _create(
                    item,
                    account=account,
                    api_key=api_key,
                    stored=stored,
                    keep_previews=keep_previews,
                )
                for item in checked
            ]
            idempotency.record_created([job.pk for job in jobs])
    except Exception as exc:
        for row in stored:  # a rolled-back job must not leave images on disk
            erase_files(row.file, row.preview)
        if getattr(exc, "code", None) == "insufficient_credits" and len(checked) > 1:
            # The job that failed is not the request: report what all of it costs.
            total = sum(quotas.job_cost(frames=item.frames) for item in checked)
            raise quotas.insufficient_credits(account=account, required=total) from None
        raise
    return jobs


def _reader() -> Callable[[NamedImage], ImageInput]:
    seen: dict[int, ImageInput] = {}

    def read(image: NamedImage) -> ImageInput:
        key = id(image.value)
        if key not in seen:
            seen[key] = read_image_input(image.value, field=image.field)
        return seen[key]

    return read


def _check(
    spec: SwapSpec, *, account: Account, read: Callable[[NamedImage], ImageInput]
) -> _Checked:
    if len(spec.sources) > MAX_SOURCES or len(spec.face_ids) > MAX_SOURCES:
        raise ValueError(f"at most {MAX_SOURCES} sources per job")  # the forms check this
    target = read(spec.target)
    checked = _Checked(
        spec=spec,
        target=target,
        frames=_frame_count(target, field=spec.target.field),
        sources=tuple(read(source) for source in spec.sources),
        reference=read(spec.reference) if spec.reference is not None else None,
        faces=owned_saved_faces(account=account, face_ids=spec.face_ids),
    )
    checked.output_format()  # an impossible output format is refused before any charge
    return checked


def owned_saved_faces(*, account: Account, face_ids: Sequence[uuid.UUID]) -> tuple[SavedFace, ...]:
    """The caller's saved faces, in the order asked; another account's id is not found."""
    if not face_ids:
        return ()  # most jobs name none: no query
    found = {face.pk: face for face in SavedFace.objects.owned_by(account).filter(pk__in=face_ids)}
    missing = [str(face_id) for face_id in face_ids if face_id not in found]
    if missing:
        raise ApiError("not_found", "No saved face with this id.", {"source_face_id": missing[0]})
    return tuple(found[face_id] for face_id in face_ids)


def _create(
    item: _Checked,
    *,
    account: Account,
    api_key: ApiKey | None,
    stored: list[SwapInput],
    keep_previews: bool,
) -> SwapJob:
    options = item.spec.options
    job = SwapJob.objects.create(
        account=account,
        api_key=api_key,
        options={
            **options.as_json(plan_watermarks=account.plan.watermark_by_default),
            "source_face_ids": [str(face.pk) for face in item.faces],
        },
        output_format=item.output_format(),
        return_base64=options.return_base64,
        client_reference=options.client_reference,
        cost=quotas.job_cost(frames=item.frames),
        webhook_url=options.webhook_url,
        consent=options.consent,
        frames_total=item.frames,
    )
    quotas.charge_for_job(account=account, job=job)  # 402 rolls the job back
    rows = [
        _input_row(job, role, position, image, keep_preview=keep_previews)
        for role, position, image in item.images()
    ]
    rows += [_face_row(job, position, face) for position, face in enumerate(item.faces)]
    stored.extend(row for row, _ in rows)  # before any upload: a failure erases what was put
    store_files([upload for _, uploads in rows for upload in uploads])
    SwapInput.objects.bulk_create([row for row, _ in rows])  # one INSERT for all of them
    transaction.on_commit(lambda: enqueue_swap_job(job_id=job.pk))
    return job


def _frame_count(target: ImageInput, *, field: str) -> int:
    """Frames the job swaps: its cost grows with them (accounts.quotas.job_cost).

    A GIF's blocks are scanned (no pixel decoded): too many frames or pixels over all
    frames is ImageInputError(image_too_large), before any charge.
    """
    if target.info.format != "gif":
        return 1
    return animated.probe_animation(
        target.data, image=field, max_pixels=settings.MAX_IMAGE_PIXELS
    ).frames


def _output_format(asked: str | None, target: ImageInput, frames: int) -> str:
    """An animated target gives a GIF; a still one its own format (a GIF: PNG) unless asked."""
    if frames > 1:
        if asked not in (None, "gif"):
            raise ApiError(
                "invalid_parameter",
                "An animated GIF target gives a GIF: send output_format gif or none.",
                {"output_format": asked},
            )
        return "gif"
    if asked:
        return asked
    return target.info.format if target.info.format in ("jpeg", "png", "webp") else "png"


def _input_row(
    job: SwapJob, role: str, position: int, image: ImageInput, *, keep_preview: bool
) -> tuple[SwapInput, list[Upload]]:
    row = SwapInput(
        job=job,
        role=role,
        position=position,
        format=image.info.format,
        width=image.info.width,
        height=image.info.height,
        size_bytes=len(image.data),
    )
    uploads: list[Upload] = [(row.file, "input", image.data)]
    preview = make_preview(image.data) if keep_preview else None
    if preview:
        uploads.append((row.preview, "preview", preview))
    return row, uploads


def _face_row(job: SwapJob, position: int, face: SavedFace) -> tuple[SwapInput, list[Upload]]:
    identity = bytes(face.identity)
    row = SwapInput(
        job=job,
        role=InputRole.FACE,
        position=position,
        format="face",
        width=0,
        height=0,
        size_bytes=len(identity),
    )
    return row, [(row.file, "face", identity)]


def enqueue_swap_job(*, job_id: uuid.UUID) -> None:
    # save=False: django-q2 keeps no row for a task that succeeded (the job row is the
    # record; saving one cost the cluster's monitor a locked scan of up to save_limit rows
    # per job). A failed task is still saved, which is what calls the hook.
    broker.enqueue(
        "swaps.tasks.process_swap_job",
        str(job_id),
        hook="swaps.tasks.on_swap_task_finished",
        task_name=f"swap-{job_id}",
        save=False,
    )


# --- Running --------------------------------------------------------------------------


def claim_swap_job(*, job_id: uuid.UUID | str) -> SwapJob | None:
    """Move a pending job to processing; None if another worker (or run) got it first."""
    now = timezone.now()
    claimed = (
        SwapJob.objects.visible()
        .filter(pk=job_id, status=JobStatus.PENDING)
        .update(
            status=JobStatus.PROCESSING,
            claimed_at=now,
            attempts=F("attempts") + 1,
            worker=this_process(),
            heartbeat_at=now,
        )
    )
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
        with heartbeat(job):
            outcome = runner.swap_job(job, on_frame=frame_reporter(job))
    except (engine.EngineError, ImageInputError) as exc:
        code, message, details = runner.job_error(exc)
        fail_swap_job(job=job, code=code, message=message, details=details)
    except Exception:
        logger.exception("swap %s: unexpected failure", job.pk)
        fail_swap_job(job=job, code="processing_failed", message="The swap could not be processed.")
    else:
        elapsed_ms = round((time.perf_counter() - started) * 1000)
        _complete_swap_job(job, outcome, processing_ms=elapsed_ms)


# --- Ending ---------------------------------------------------------------------------


def _complete_swap_job(job: SwapJob, outcome: runner.Outcome, *, processing_ms: int) -> None:
    job.result.save(
        f"{uuid.uuid4().hex}.{job.output_format}", ContentFile(outcome.image), save=False
    )
    save_result_preview(job, outcome.image, outcome.pixels)
    with transaction.atomic():
        updated = (
            SwapJob.objects.visible()
            .filter(pk=job.pk, status=JobStatus.PROCESSING)
            .update(
                status=JobStatus.COMPLETED,
                completed_at=timezone.now(),
                result=job.result.name,
                processing_ms=processing_ms,
                faces=outcome.faces,
                timings=outcome.timings,
                result_preview=job.result_preview.name,
                frames_done=job.frames_total,
            )
        )
        if updated == 1:
            notify_job_ended(job)
    if updated != 1:
        # Deleted or reaped while we worked: keep nothing.
        erase_files(job.result, job.result_preview)
    _erase_inputs_or_leave(job)


def _erase_inputs_or_leave(job: SwapJob) -> None:
    """The job has ended: its inputs go now, or (storage down) by the sweeper
    (``erase_leftover_inputs``), never by failing a job that is done."""
    try:
        erase_inputs(job=job)
    except Exception:
        logger.exception("swap %s: inputs not erased now; the sweeper will", job.pk)


def fail_swap_job(
    *,
    job: SwapJob,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    from_status: str = JobStatus.PROCESSING,
    notify: bool = True,
) -> bool:
    """End a job as failed, refund it, call its webhook; False if it had already ended."""
    with transaction.atomic():
        updated = SwapJob.objects.filter(pk=job.pk, status=from_status).update(
            status=JobStatus.FAILED,
            completed_at=timezone.now(),
            error_code=code,
            error_message=message[:500],
            error_details=details or {},
        )
        if updated == 1:
            quotas.refund_job(job=job, reason=f"job failed: {code}")
            if notify:
                notify_job_ended(job)
    _erase_inputs_or_leave(job)
    return updated == 1


def fail_stale_swap_jobs(*, now: Any = None) -> int:
    """Jobs left 'processing' past the worker timeout (crash, kill) end as failed."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.JOB_STALE_AFTER_S)
    stale = SwapJob.objects.filter(status=JobStatus.PROCESSING, claimed_at__lt=cutoff)
    count = 0
    for job in stale:
        count += fail_swap_job(
            job=job,
            code="processing_failed",
            message="The worker stopped before the swap finished.",
        )
    return count


def erase_inputs(*, job: SwapJob) -> None:
    rows = list(job.inputs.exclude(file=""))
    erase_files(*(row.file for row in rows))
    SwapInput.objects.filter(pk__in=[row.pk for row in rows]).update(file="")
    SwapJob.objects.filter(pk=job.pk, inputs_deleted_at__isnull=True).update(
        inputs_deleted_at=timezone.now()
    )


def _erase_previews(job: SwapJob) -> None:
    rows = list(job.inputs.exclude(preview=""))
    erase_files(*(row.preview for row in rows))
    SwapInput.objects.filter(pk__in=[row.pk for row in rows]).update(preview="")
    if job.result_preview:
        erase_files(job.result_preview)
        SwapJob.objects.filter(pk=job.pk).update(result_preview="")


def delete_swap_job(*, job: SwapJob) -> None:
    """Erase a job's images and result; the row stays (hidden) for accounting.

    A job deleted before any worker started it is cancelled and refunded.
    """
    fail_swap_job(
        job=job,
        code="cancelled",
        message="Deleted before processing started.",
        from_status=JobStatus.PENDING,
        notify=False,
    )
    SwapJob.objects.filter(pk=job.pk).update(deleted_at=timezone.now())
    erase_job_files(job=job)


def erase_job_files(*, job: SwapJob) -> None:
    """Every file of a job (inputs, previews, result), through the storage API."""
    # It may have completed since it was loaded: erase the result and preview it has now.
    job.refresh_from_db(fields=["result", "result_preview"])
    erase_inputs(job=job)
    _erase_previews(job)
    SwapJob.objects.filter(pk=job.pk).update(result="")
    erase_files(job.result)


def erase_leftover_inputs(*, now: Any = None) -> int:
    """Inputs of jobs that ended LEFTOVER_INPUTS_AFTER_S ago and still have them (a
    worker killed between storing its result and erasing, storage down then): erased."""
    cutoff = (now or timezone.now()) - timedelta(seconds=LEFTOVER_INPUTS_AFTER_S)
    ended = SwapJob.objects.filter(
        status__in=(JobStatus.COMPLETED, JobStatus.FAILED),
        completed_at__lt=cutoff,
        inputs_deleted_at__isnull=True,
    )
    count = 0
    for job in ended.iterator():
        erase_inputs(job=job)
        count += 1
    return count


def purge_expired_results(*, now: Any = None) -> int:
    """Results are kept only as long as their URL is valid."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.RESULT_URL_TTL_S)
    expired = SwapJob.objects.filter(status=JobStatus.COMPLETED, completed_at__lt=cutoff)
    count = 0
    for job in expired.exclude(result=""):
        erase_files(job.result)
        _erase_previews(job)
        SwapJob.objects.filter(pk=job.pk).update(result="")
        count += 1
    return count
