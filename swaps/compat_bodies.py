"""A job as the useapi and ModelsLab clients expect to read it: one home for those bodies,
used by their routes' answers (swaps/api/compat_useapi.py, compat_modelslab.py) and by
the webhook (swaps.webhooks), which POSTs the same body.

What each route's request said that the body echoes (names, references, track_id) is
kept in the job's options under "compat" (SwapOptions.compat).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from django.urls import reverse

from swaps.models import InputRole, JobStatus, SwapJob
from swaps.results import CONTENT_TYPES
from swaps.signing import future_result_path, result_path

USEAPI = "useapi"
MODELSLAB = "modelslab"
MODELSLAB_ETA_S = 2  # what a still-processing answer says to wait before fetching


def echo(job: SwapJob) -> dict[str, Any]:
    return dict(job.options.get("compat") or {})


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def result_url(job: SwapJob, base_url: str) -> str | None:
    path = result_path(job)
    return urljoin(base_url, path) if path else None


def _target_size(job: SwapJob) -> tuple[int | None, int | None]:
    row = job.inputs.filter(role=InputRole.TARGET).first()
    return (row.width, row.height) if row else (None, None)


# --- useapi InsightFaceSwap ------------------------------------------------------------


def useapi_body(job: SwapJob, *, base_url: str) -> dict[str, Any]:
    said = echo(job)
    status = {JobStatus.COMPLETED: "completed", JobStatus.FAILED: "failed"}.get(
        job.status, "started"
    )
    body: dict[str, Any] = {
        "jobid": str(job.pk),
        "verb": "faceswap-swap",
        "status": status,
        "created": iso(job.created_at),
        "updated": iso(job.completed_at or job.claimed_at or job.created_at),
        "channel": said.get("channel") or None,
        "saveid_idname": said.get("saveid_idname"),
        "saveid_image": said.get("saveid_image"),
        "swapid_idname": said.get("swapid_idname"),
        "swapid_image": said.get("swapid_image"),
        "replyUrl": job.webhook_url or None,
        "replyRef": said.get("replyRef") or None,
        "content": _useapi_content(job, said),
        "attachments": _attachments(job, base_url),
        "code": 200,
    }
    if job.status == JobStatus.FAILED:
        body["error"] = job.error_message
        body["error_code"] = job.error_code
    return body


def _useapi_content(job: SwapJob, said: dict[str, Any]) -> str:
    names = f"{said.get('saveid_idname')} -> {said.get('swapid_idname')}"
    if job.status == JobStatus.COMPLETED:
        return f"Face swapped ({names})."
    if job.status == JobStatus.FAILED:
        return f"Face swap failed ({names}): {job.error_message}"
    return f"Face swap still running ({names}): GET /api/v1/swaps/{job.pk}."


def _attachments(job: SwapJob, base_url: str) -> list[dict[str, Any]]:
    url = result_url(job, base_url)
    if url is None:
        return []
    width, height = _target_size(job)  # a swap keeps the target's size
    return [
        {
            "url": url,
            "proxy_url": url,
            "width": width,
            "height": height,
            "content_type": CONTENT_TYPES.get(job.output_format, "application/octet-stream"),
            "id": str(job.pk),
            "filename": f"faceswap-{job.pk}.{job.output_format}",
            "size": job.result.size,
        }
    ]


# --- ModelsLab --------------------------------------------------------------------------


def modelslab_body(job: SwapJob, *, base_url: str, for_webhook: bool = False) -> dict[str, Any]:
    said = echo(job)
    if job.status == JobStatus.COMPLETED:
        url = result_url(job, base_url)
        body: dict[str, Any] = {
            "status": "success",
            "generationTime": round((job.processing_ms or 0) / 1000, 3),
            "id": str(job.pk),
            "output": [url],
            "proxy_links": [url],
            "meta": {
                "watermark": job.options.get("watermark"),
                "reference_image": said.get("reference_image", False),
                "output_format": job.output_format,
                "faces": job.faces,
            },
        }
    elif job.status == JobStatus.FAILED:
        body = {"status": "error", "id": str(job.pk), "message": job.error_message}
    else:
        fetch = reverse("modelslab-fetch", args=[job.pk])
        body = {
            "status": "processing",
            "id": str(job.pk),
            "eta": MODELSLAB_ETA_S,
            "message": "Processing: POST fetch_result with your key for the result.",
            "fetch_result": urljoin(base_url, fetch),
            "future_links": [urljoin(base_url, future_result_path(job))],
        }
    if for_webhook or said.get("track_id"):
        body["track_id"] = said.get("track_id")
    return body


def webhook_body(job: SwapJob, *, base_url: str) -> dict[str, Any] | None:
    """The body a compatible route's job POSTs to its webhook; None: the native job."""
    shapers: dict[str, Callable[[], dict[str, Any]]] = {
        USEAPI: lambda: useapi_body(job, base_url=base_url),
        MODELSLAB: lambda: modelslab_body(job, base_url=base_url, for_webhook=True),
    }
    shaper = shapers.get(echo(job).get("service", ""))
    return shaper() if shaper else None
