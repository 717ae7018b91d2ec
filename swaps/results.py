"""A job's result as a download: one answer for the API and the signed-URL page."""

from __future__ import annotations

from django.http import FileResponse

from swaps.models import SwapJob

CONTENT_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif"}


def result_file_response(job: SwapJob, *, as_attachment: bool = False) -> FileResponse:
    """The result's bytes, private to the browser's cache, never sniffed as another type."""
    filename = f"faceswap-{job.pk}.{job.output_format}"
    content_type = CONTENT_TYPES.get(job.output_format, "application/octet-stream")
    response = FileResponse(job.result.open("rb"), content_type=content_type, filename=filename)
    disposition = "attachment" if as_attachment else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
