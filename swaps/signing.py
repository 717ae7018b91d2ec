"""Signed, expiring result URLs that work without an API key."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from swaps.models import JobStatus, SwapJob

_SALT = "swaps.result-url"


def result_token(job: SwapJob) -> str | None:
    expires = job.result_expires_at
    if expires is None:
        return None
    return _token(job, int(expires.timestamp()))


def _token(job: SwapJob, expires: int) -> str:
    return signing.dumps({"j": str(job.pk), "e": expires}, salt=_SALT, compress=True)


def future_result_path(job: SwapJob) -> str:
    """A signed URL given before the job ends (ModelsLab's `future_links`): not found until
    the result exists, then the result, until RESULT_URL_TTL_S after the job's creation
    (before its result is erased, which is that long after its end)."""
    expires = int(job.created_at.timestamp()) + settings.RESULT_URL_TTL_S
    return reverse("swaps:result-download", args=[_token(job, expires)])


def result_path(job: SwapJob) -> str | None:
    token = result_token(job)
    return reverse("swaps:result-download", args=[token]) if token else None


def job_for_token(token: str) -> SwapJob | None:
    """The completed, undeleted job a valid, unexpired token names."""
    try:
        payload = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or payload.get("e", 0) < timezone.now().timestamp():
        return None
    return (
        SwapJob.objects.visible()
        .filter(pk=payload.get("j"), status=JobStatus.COMPLETED)
        .exclude(result="")
        .first()
    )
