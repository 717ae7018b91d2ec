"""How a stored job becomes one engine call: load its inputs, swap, mark and encode.

Called by swaps.services.run_swap_job, which owns the job's states; nothing here writes
to the database. Engine and image errors propagate with their codes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.conf import settings

from swaps import animated, content_credentials, engine, heap
from swaps.imaging import INPUT_FORMATS
from swaps.imaging.decoding import decode_image
from swaps.imaging.encoding import encode_image
from swaps.imaging.watermark import add_watermark
from swaps.models import InputRole, SwapInput, SwapJob

# The codes a failed job may carry (docs/api.md); any other engine code is `processing_failed`.
JOB_ERROR_CODES = frozenset(
    {
        "no_face_detected",
        "face_count_mismatch",
        "face_index_out_of_range",
        "face_not_swappable",
        "invalid_image_format",
        "image_too_large",
    }
)


@dataclass
class Outcome:
    image: bytes
    faces: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    pixels: np.ndarray | None = None  # a still result before encoding (for its preview)


@dataclass
class JobImages:
    """A job's decoded inputs, sources in request order; ``target`` is None for an
    animated GIF target, whose bytes are in ``target_data``."""

    target: np.ndarray | None
    sources: list[np.ndarray] = field(default_factory=list)
    reference: np.ndarray | None = None
    identities: list[Any] = field(default_factory=list)  # engine.FaceIdentity
    target_data: bytes = b""


def swap_job(job: SwapJob, *, on_frame: Callable[[int], None] | None = None) -> Outcome:
    heap.keep_freed_memory()  # this process is a worker: reuse big buffers across jobs
    started = time.perf_counter()
    images = load_images(job)
    loaded_ms = _ms_since(started)
    if images.target is None:
        return _swap_animated(images, job.options, loaded_ms, on_frame)
    timings: dict[str, float] = {"decode": loaded_ms}
    result = run_engine(images, job.options)
    timings.update(result.timings_ms)
    started = time.perf_counter()
    image = add_watermark(result.image) if job.options.get("watermark") else result.image
    data = _encode(image, job.output_format)
    timings["encode"] = _ms_since(started)
    data = _with_credentials(data, job.output_format, timings)
    return Outcome(image=data, faces=_plain(result.faces), timings=timings, pixels=image)


def _with_credentials(data: bytes, fmt: str, timings: dict[str, float]) -> bytes:
    """The C2PA Content Credentials, signed over the final bytes (after any watermark)."""
    started = time.perf_counter()
    signed = content_credentials.sign_result(data, fmt)
    timings["credentials"] = _ms_since(started)
    return signed


def _swap_animated(
    images: JobImages,
    options: dict[str, Any],
    loaded_ms: float,
    on_frame: Callable[[int], None] | None,
) -> Outcome:
    """Every frame of an animated GIF target, the sources found once."""
    result = animated.swap_gif(
        images.target_data,
        on_frame=on_frame,
        note=settings.OUTPUT_NOTE,
        max_pixels=settings.MAX_IMAGE_PIXELS,
        watermark=bool(options.get("watermark")),
        **engine_arguments(images, options),
    )
    timings = {name: round(ms, 1) for name, ms in result.timings_ms.items()}
    timings["decode"] = round(timings.get("decode", 0.0) + loaded_ms, 1)
    data = _with_credentials(result.data, "gif", timings)
    return Outcome(image=data, faces=_plain(result.faces), timings=timings)


def _encode(image: np.ndarray, fmt: str) -> bytes:
    if fmt == "gif":  # a still target asked as GIF: one frame, played once
        return animated.encode_animation([image], [0], loop=None, note=settings.OUTPUT_NOTE)
    return encode_image(image, fmt, note=settings.OUTPUT_NOTE)


def load_images(job: SwapJob) -> JobImages:
    rows = list(job.inputs.all())  # ordered by role, then position
    by_role = {role: [row for row in rows if row.role == role] for role in InputRole.values}
    references = by_role[InputRole.REFERENCE]
    target_row = by_role[InputRole.TARGET][0]
    target_data = _read(target_row)
    moving = target_row.format == "gif" and animated.gif_frame_count(target_data) > 1
    return JobImages(
        target=None if moving else _decode(target_row, target_data),
        target_data=target_data,
        sources=[_decode(row) for row in by_role[InputRole.SOURCE]],
        reference=_decode(references[0]) if references else None,
        identities=[engine.FaceIdentity.from_bytes(_read(row)) for row in by_role[InputRole.FACE]],
    )


def _read(row: SwapInput) -> bytes:
    with row.file.open("rb") as handle:
        return handle.read()


def _decode(row: SwapInput, data: bytes | None = None) -> np.ndarray:
    """A still image; a GIF source or reference gives its first frame."""
    return decode_image(
        _read(row) if data is None else data,
        image=f"{row.role}_image",
        max_pixels=settings.MAX_IMAGE_PIXELS,
        allowed_formats=INPUT_FORMATS,
    ).array


def engine_arguments(images: JobImages, options: dict[str, Any]) -> dict[str, Any]:
    """swap_faces' keyword arguments from the job's stored options."""
    return {
        "sources": images.sources,
        "identities": images.identities,
        "source_indices": _indices(options, "source_faces", legacy="source_face"),
        "target_indices": _indices(options, "target_faces", legacy="target_face"),
        "reference_bgr": images.reference,
        "options": engine_options(options),
    }


def engine_options(options: dict[str, Any]) -> engine.SwapOptions:
    """The engine's options from the job's; likeness absent or null: the engine's default."""
    chosen: dict[str, Any] = {
        "enhance": bool(options.get("enhance")),
        "keep_hands": bool(options.get("keep_hands")),  # absent in jobs stored before it
    }
    if options.get("likeness") is not None:
        chosen["likeness"] = float(options["likeness"])
    return engine.SwapOptions(**chosen)


def _indices(options: dict[str, Any], key: str, *, legacy: str) -> Any:
    if key in options:
        return options[key]  # a list, "all", or None (the engine's default)
    return [options[legacy]] if legacy in options else None  # jobs stored before lists


def run_engine(images: JobImages, options: dict[str, Any]) -> engine.SwapResult:
    return engine.swap_faces(images.target, **engine_arguments(images, options))


def job_error(exc: Any) -> tuple[str, str, dict[str, Any]]:
    """(code, message, details) of a failed job from an engine or image error."""
    if exc.code in JOB_ERROR_CODES:
        return exc.code, exc.message, dict(exc.details)
    return "processing_failed", exc.message, {"reason": exc.code, **exc.details}


def _plain(faces: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe copy: numpy numbers from the engine become Python numbers."""
    return json.loads(json.dumps(faces, default=lambda value: value.item()))


def _ms_since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)
