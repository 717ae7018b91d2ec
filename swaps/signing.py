"""Signed, expiring result URLs that work without an API key."""

from __future__ import annotations

from django.core import signing
from django.urls import reverse
from django.utils import timezone

from swaps.models import JobStatus, SwapJob

_SALT = "swaps.result-url"


def result_token(job: SwapJob) -> str | None:
    expires = job.result_expires_at
    if expires is None:
        return None
    return signing.dumps(
        {"j": str(job.pk), "e": int(expires.timestamp())}, salt=_SALT, compress=True
    )


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
