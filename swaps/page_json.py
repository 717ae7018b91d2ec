"""The JSON the browser pages read: a job's status (polled every ~250 ms while it runs)
and the faces of a photo being chosen (the upload page's face picker).

Session-authenticated, scoped to the logged-in person's account, never cached. Errors
are {"error": {"code", "message"}} with the message in people's words.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from accounts import quotas
from accounts.page_limits import limit_posts_per_ip
from faceswap_site.codes import STATUS_BY_CODE, CodedError
from swaps import faces
from swaps.models import JobStatus, SwapJob
from swaps.plain_words import in_plain_words
from swaps.signing import result_path

STAGES = {
    JobStatus.PENDING: "waiting",
    JobStatus.PROCESSING: "swapping",
    JobStatus.COMPLETED: "done",
    JobStatus.FAILED: "failed",
}
PHOTO_ROLES = ("source", "target", "reference")
STATUS_FIELDS = ("id", "account_id", "status", "frames_done", "frames_total", "deleted_at")


@login_required
@require_safe
@never_cache
def job_status(request: HttpRequest, job_id: uuid.UUID) -> JsonResponse:
    """While the job runs: one primary-key read of a few columns, cheap enough to poll
    four times a second. Once it ended (read once): its error or result link too."""
    jobs = SwapJob.objects.owned_by(quotas.account_for(user=request.user))
    job = get_object_or_404(jobs.only(*STATUS_FIELDS), pk=job_id)
    final = job.status in (JobStatus.COMPLETED, JobStatus.FAILED)
    if final:
        job = get_object_or_404(jobs, pk=job_id)
    failed = job.status == JobStatus.FAILED
    return JsonResponse(
        {
            "status": job.status,
            "stage": STAGES.get(job.status, job.status),
            "is_final": final,
            "frames_total": job.frames_total,
            "frames_done": job.frames_done,
            "error": {"code": job.error_code, "message": job.error_message} if failed else None,
            "result_url": live_result_url(job) if final else None,
        }
    )


def live_result_url(job: SwapJob) -> str | None:
    """The signed result URL, or None once the result (or its link) has expired."""
    expires = job.result_expires_at
    if expires is None or expires <= timezone.now():
        return None
    return result_path(job)


@login_required
@limit_posts_per_ip(group="swaps.detect", rate_setting="PAGE_DETECT_RATE")
@require_POST
def detect_faces(request: HttpRequest) -> JsonResponse:
    """The faces of one photo (as POST /api/v1/detect, free): boxes for the face picker."""
    role = request.POST.get("role", "")
    image = request.FILES.get("image")
    if role not in PHOTO_ROLES or image is None:
        return _error("invalid_parameter", "Send one photo as 'image' with its role.", 400)
    try:
        found = faces.detect_faces_in(image=image)
    except CodedError as exc:
        details = {**(exc.details or {}), "image": f"{role}_image"}
        message = in_plain_words(exc.code, details, exc.message)
        return _error(exc.code, message, STATUS_BY_CODE.get(exc.code, 400))
    return JsonResponse(found)


def _error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)
