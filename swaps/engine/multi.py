"""Every swap mode: several faces, several sources, saved faces, a photo's own
faces traded, a reference face choosing the target.

Each image is detected once (every face: counts are exact); landmarks are
placed only for the faces used (all target faces only when a reference must be
matched), descriptors only for a reference. Each (source, target) pair then
goes through ``pipeline.paste_face``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import shape
from .checks import check_swappable, enlargement_warning
from .detect import Detection, Timer, find_face_boxes, place_points
from .errors import EngineError, FaceCountMismatch, FaceIndexOutOfRange, NoFaceDetected
from .identity import FaceIdentity, face_descriptor
from .images import as_bgr
from .pipeline import SwapOptions, SwapResult, held_hands, paste_face
from .select import Indices, Pairs, plan_pairs

# Pixels around the face model's frame in the region handed to paste_face.
REGION_PAD = 4


@dataclass
class _ImageFaces:
    """One image's faces: detected once, landmarks placed on first use."""

    image: np.ndarray
    name: str  # as errors name it: "target", "source", "source_2", ...
    rects: list[Detection | None]
    first: int = 0  # request number of its face 0 (sources are numbered together)
    placed: dict[int, np.ndarray] = field(default_factory=dict)
    saved: bool = False  # a saved identity: landmarks known and already checked
    checked: set[int] = field(default_factory=set)

    def landmarks(self, k: int, timer: Timer) -> np.ndarray:
        if k not in self.placed:
            start = time.perf_counter()
            self.placed[k] = place_points(self.image, self.rects[k])
            timer.add("landmarks", start)
        return self.placed[k]

    def check(self, k: int, timer: Timer) -> None:
        if not self.saved and k not in self.checked:
            check_swappable(self.landmarks(k, timer), self.image.shape, self.name, self.first + k)
            self.checked.add(k)


def _detect(image: Any, name: str, first: int, opts: SwapOptions, timer: Timer) -> _ImageFaces:
    pixels = as_bgr(image, name)
    start = time.perf_counter()
    rects: list[Detection | None] = list(find_face_boxes(pixels, opts.detect_pixels))
    timer.add("detect", start)
    if not rects:
        raise NoFaceDetected(name)
    return _ImageFaces(pixels, name, rects, first)


def _source_pool(
    sources: Sequence[Any], identities: Sequence[FaceIdentity], opts: SwapOptions, timer: Timer
) -> list[_ImageFaces]:
    """Source faces numbered together: photos in order (largest face first in
    each), then saved identities, one face each."""
    names = ["source"] if len(sources) == 1 else [f"source_{i}" for i in range(1, 1 + len(sources))]
    pool: list[_ImageFaces] = []
    first = 0
    for image, name in zip(sources, names, strict=True):
        pool.append(_detect(image, name, first, opts, timer))
        first += len(pool[-1].rects)
    for i, identity in enumerate(identities, start=1):
        crop, landmarks = identity.crop, np.asarray(identity.landmarks, np.float64)
        pool.append(_ImageFaces(crop, f"identity_{i}", [None], first, {0: landmarks}, True))
        first += 1
    return pool


def _listed(items: Sequence[Any], name: str) -> list[Any]:
    if isinstance(items, np.ndarray | FaceIdentity):
        raise EngineError("invalid_option", f"{name} must be a list, not a single item")
    return list(items)


@dataclass(frozen=True)
class PreparedSources:
    """Source faces detected once, for swapping into many targets (the frames
    of an animation): pass as ``swap_faces(frame, prepared=...)``. Landmarks
    are placed on first use and kept."""

    pool: list[_ImageFaces]

    @property
    def count(self) -> int:
        return sum(len(faces.rects) for faces in self.pool)

    def face(self, index: int, timer: Timer) -> tuple[np.ndarray, np.ndarray]:
        """Source face ``index``'s image and landmarks, checked as swappable."""
        if not 0 <= index < self.count:
            raise FaceIndexOutOfRange("source", int(index), self.count)
        faces, k = _locate(self.pool, index)
        faces.check(k, timer)
        return faces.image, faces.landmarks(k, timer)


def prepare_sources(
    sources: Sequence[np.ndarray] = (),
    identities: Sequence[FaceIdentity] = (),
    options: SwapOptions | None = None,
    timer: Timer | None = None,
) -> PreparedSources:
    """Detect the source photos' faces once (errors as ``swap_faces`` raises them)."""
    sources, identities = _listed(sources, "sources"), _listed(identities, "identities")
    if not sources and not identities:
        raise EngineError("invalid_option", "no source image or saved face to prepare")
    pool = _source_pool(sources, identities, options or SwapOptions(), timer or Timer())
    return PreparedSources(pool)


def _locate(pool: list[_ImageFaces], index: int) -> tuple[_ImageFaces, int]:
    for faces in pool:
        if index < faces.first + len(faces.rects):
            return faces, index - faces.first
    raise AssertionError(f"source index {index} was range-checked")


def _check_request(
    has_sources: bool, prepared: bool, reference: np.ndarray | None, target_indices: Indices
) -> None:
    """Contradictory requests fail before any detection is paid for."""
    if prepared and has_sources:
        raise EngineError("invalid_option", "give either prepared sources or sources, not both")
    if reference is None:
        return
    if target_indices is not None:
        raise EngineError(
            "invalid_option", "give either target face indices or a reference image, not both"
        )
    if not has_sources and not prepared:
        raise EngineError("invalid_option", "a reference image needs a source image or face")


def reference_descriptor(reference_bgr: Any, opts: SwapOptions, timer: Timer) -> np.ndarray:
    """The descriptor of the reference photo's largest face."""
    reference = _detect(reference_bgr, "reference", 0, opts, timer)
    points = reference.landmarks(0, timer)
    start = time.perf_counter()
    wanted = face_descriptor(reference.image, points)
    timer.add("descriptor", start)
    return wanted


def nearest_face(
    image: np.ndarray, landmarks: Sequence[np.ndarray], wanted: np.ndarray, timer: Timer
) -> dict[str, Any]:
    """Of the faces (``landmarks``) in ``image``, the one nearest (by dlib descriptor)
    to ``wanted``: ``{"index": i, "distance": d}``."""
    start = time.perf_counter()
    distances = [float(np.linalg.norm(face_descriptor(image, p) - wanted)) for p in landmarks]
    timer.add("descriptor", start)
    best = int(np.argmin(distances))
    return {"index": best, "distance": round(distances[best], 4)}


def _by_reference(
    target: _ImageFaces, reference_bgr: Any, opts: SwapOptions, timer: Timer
) -> dict[str, Any]:
    """The target face nearest to the reference's largest face."""
    wanted = reference_descriptor(reference_bgr, opts, timer)
    points = [target.landmarks(k, timer) for k in range(len(target.rects))]
    return nearest_face(target.image, points, wanted, timer)


def _pairs(
    target: _ImageFaces, n_source: int, self_swap: bool, source: Indices, target_indices: Indices
) -> Pairs:
    if self_swap and len(target.rects) < 2:
        raise FaceCountMismatch(
            "the target image shows one face; trading faces within one photo needs two "
            "(or give a source image)",
            {"source": 1, "target": 1},
        )
    name = "target" if self_swap else "source"
    n_target = len(target.rects)
    return plan_pairs(
        source, target_indices, n_source, n_target, self_swap=self_swap, source_image=name
    )


def _swap_pairs(
    pool: list[_ImageFaces], target: _ImageFaces, pairs: Pairs, opts: SwapOptions, timer: Timer
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Check every face used, then put each source face on its target face in turn;
    returns the image and the warnings (``checks.enlargement_warning``).

    Swaps are written into a copy: sources always read the original images, so
    in a self swap a face already replaced still gives its own look.
    """
    placed = [(*_locate(pool, s), t) for s, t in pairs]
    for faces, k, t in placed:
        faces.check(k, timer)
        target.check(t, timer)
    out, warnings = target.image.copy(), []
    for (s, _), (faces, k, t) in zip(pairs, placed, strict=True):
        src, dst = faces.landmarks(k, timer), target.landmarks(t, timer)
        warnings.append(enlargement_warning(src, dst, s, t))
        _swap_into(out, faces.image, src, dst, opts, timer)
    return out, [warning for warning in warnings if warning is not None]


def _swap_into(
    out: np.ndarray,
    source: np.ndarray,
    src_landmarks: np.ndarray,
    dst_landmarks: np.ndarray,
    opts: SwapOptions,
    timer: Timer,
) -> None:
    """``swap_face`` on the region around the target face only, written straight
    into ``out``: an extra face costs its region, not a copy of the whole photo.

    The region holds the face model's frame (the warp's outermost points), so
    it contains everything paste_face may change.
    """
    points, _ = shape.extend_landmarks(dst_landmarks, opts.forehead)
    h, w = out.shape[:2]
    x0, y0 = np.maximum(0, np.floor(points.min(axis=0)) - REGION_PAD).astype(int)
    x1, y1 = np.minimum((w, h), np.ceil(points.max(axis=0)) + REGION_PAD + 1).astype(int)
    # The hands are found on the whole photo: a palm may lie below the region.
    held: list[np.ndarray] = []
    if opts.keep_hands:
        start = time.perf_counter()
        held = [p - (x0, y0) for p in held_hands(out, dst_landmarks, opts)]
        timer.add("hands", start)
    # A view: paste_face writes the face straight into ``out``, no region copies.
    local = dst_landmarks - (x0, y0)
    paste_face(out[y0:y1, x0:x1], source, src_landmarks, local, opts, timer, held=held)


def swap_faces(
    target_bgr: np.ndarray,
    *,
    sources: Sequence[np.ndarray] = (),
    identities: Sequence[FaceIdentity] = (),
    source_indices: Indices = None,
    target_indices: Indices = None,
    reference_bgr: np.ndarray | None = None,
    options: SwapOptions | None = None,
    prepared: PreparedSources | None = None,
) -> SwapResult:
    """Swap faces into ``target_bgr``; see docs/api.md for the modes.

    Source faces (``sources`` photos, then ``identities``) are numbered
    together, largest first per photo. Source face k goes into target face k;
    one source face goes into every listed target face ("all": every face).
    No sources: the target's own faces trade places (default 0,1 -> 1,0).
    ``reference_bgr``: the target face most like its face is the one changed.
    ``prepared``: sources from ``prepare_sources``, instead of ``sources``.
    """
    begin = time.perf_counter()
    opts = options or SwapOptions()
    timer = Timer({"detect": 0.0, "landmarks": 0.0, "warp": 0.0, "blend": 0.0})
    sources, identities = _listed(sources, "sources"), _listed(identities, "identities")
    has_sources = bool(sources) or bool(identities)
    _check_request(has_sources, prepared is not None, reference_bgr, target_indices)
    self_swap = not has_sources and prepared is None
    target = _detect(target_bgr, "target", 0, opts, timer)
    if prepared is not None:
        pool = prepared.pool
    elif self_swap:
        pool = [target]
    else:
        pool = _source_pool(sources, identities, opts, timer)
    n_source = sum(len(faces.rects) for faces in pool)
    faces: dict[str, Any] = {"source": n_source, "target": len(target.rects)}
    if reference_bgr is not None:
        faces["reference"] = _by_reference(target, reference_bgr, opts, timer)
        target_indices = [faces["reference"]["index"]]
    pairs = _pairs(target, n_source, self_swap, source_indices, target_indices)
    image, warnings = _swap_pairs(pool, target, pairs, opts, timer)
    timer.add("total", begin)
    faces["swapped"] = [[s, t] for s, t in pairs]
    if warnings:
        faces["warnings"] = warnings
    return SwapResult(image=image, faces=faces, timings_ms=timer.ms)


def swap(
    source_bgr: np.ndarray,
    target_bgr: np.ndarray,
    source_face: int = 0,
    target_face: int = 0,
    options: SwapOptions | None = None,
) -> SwapResult:
    """Swap face ``source_face`` of the source image onto ``target_face`` of the target.

    The one-face form of ``swap_faces``: faces are
    indexed largest first, the result has the target's size, and only pixels
    inside the face change.
    """
    return swap_faces(
        target_bgr,
        sources=[source_bgr],
        source_indices=[source_face],
        target_indices=[target_face],
        options=options,
    )
