"""A job's result as a download (one answer for the API and the signed-URL page), and
its screen-sized preview for the job page."""

from __future__ import annotations

import numpy as np
from django.core.files.base import ContentFile
from django.http import FileResponse

from swaps.imaging.previews import make_preview, preview_of_pixels
from swaps.models import SwapJob

RESULT_PREVIEW_SIDE = 1600  # px, the longer side: a screen's worth, not the full size

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


def save_result_preview(job: SwapJob, image: bytes, pixels: np.ndarray | None = None) -> None:
    """A still result's screen-sized copy for the job page (jobs made in the browser,
    which have no API key); a GIF shows itself (frames move). Not saved to the row.
    Made from ``pixels`` (the result before encoding) when the worker still has them."""
    if job.output_format == "gif" or job.api_key_id is not None:
        return
    if pixels is not None:
        small = preview_of_pixels(pixels, max_side=RESULT_PREVIEW_SIDE)
    else:
        small = make_preview(image, max_side=RESULT_PREVIEW_SIDE)
    if small is not None:
        job.result_preview.save("preview.jpeg", ContentFile(small), save=False)
