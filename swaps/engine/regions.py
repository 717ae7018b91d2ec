"""The regions a swap works on: the crop round a face, and that crop on the
analysis grid with both faces' points and features read once for every step;
and what several steps compute alike from the same numbers, computed once a
face (``face_scope``, ``once``)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from . import mask, shape
from .errors import EngineError
from .images import shrink


@dataclass(frozen=True)
class Crop:
    """Axis-aligned region of an image: origin and size in pixels."""

    x: int
    y: int
    w: int
    h: int

    @classmethod
    def around(cls, points: np.ndarray, margin: float, shape_hw: tuple[int, ...]) -> Crop:
        x0, y0 = np.floor(points.min(axis=0) - margin).astype(int)
        x1, y1 = np.ceil(points.max(axis=0) + margin).astype(int) + 1
        x0, y0 = max(0, x0), max(0, y0)
        x1, y1 = min(shape_hw[1], x1), min(shape_hw[0], y1)
        if x1 - x0 < 2 or y1 - y0 < 2:
            raise EngineError("face_outside_image", "the face lies outside the image")
        return cls(int(x0), int(y0), int(x1 - x0), int(y1 - y0))

    @property
    def origin(self) -> np.ndarray:
        return np.array([self.x, self.y], dtype=np.float64)

    @property
    def size(self) -> tuple[int, int]:
        return self.w, self.h

    def slices(self) -> tuple[slice, slice]:
        return slice(self.y, self.y + self.h), slice(self.x, self.x + self.w)


@dataclass(frozen=True)
class Analysis:
    """The crops on the analysis grid (the face ~``grid_face_px`` across),
    and both faces' points and features there, read once for every step."""

    size: tuple[int, int]  # of the full-size crop (w, h)
    grid: tuple[int, int]
    step: tuple[float, float]
    source: np.ndarray  # the warped source
    target: np.ndarray
    inner: np.ndarray  # the inner face (jaw below the cheekbones, features), 0..1
    points: np.ndarray  # the new face's points as morphed (68 and more), on the grid
    own: np.ndarray  # the target's own 68 landmarks as found, on the grid
    iods: tuple[float, float]  # grid pixels between the eyes of each
    # The eyes, brows, lips and nostrils of each (float32 0/1, ``mask.feature_mask``).
    features: tuple[np.ndarray, np.ndarray]

    @classmethod
    def of(
        cls,
        warped: np.ndarray,
        target_crop: np.ndarray,
        points: tuple[np.ndarray, np.ndarray],
        face_size: float,
        grid_face_px: float,
    ) -> Analysis:
        dst_local, own = points
        size = (target_crop.shape[1], target_crop.shape[0])
        grid, step = mask.analysis_grid(size, face_size, grid_face_px)
        inner = mask.hull_mask(dst_local[shape.INNER_FACE], grid, step)
        on_grid = [(p + 0.5) / np.asarray(step) - 0.5 for p in points]
        iods = [inter_ocular(p) for p in on_grid]
        features = [
            mask.feature_mask(p, inner.shape, iod).astype(np.float32)
            for p, iod in zip(on_grid, iods, strict=True)
        ]
        source, target = shrink(warped, grid), shrink(target_crop, grid)
        return cls(size, grid, step, source, target, inner, *on_grid, (*iods,), (*features,))


def inter_ocular(points: np.ndarray) -> float:
    return float(np.linalg.norm(points[36:42].mean(axis=0) - points[42:48].mean(axis=0)))


def target_grid(
    image: np.ndarray, landmarks: np.ndarray, grid_face_px: float, forehead: float = 0.18
) -> tuple[np.ndarray, np.ndarray, float]:
    """The face of these 68 ``landmarks`` as a swap judges its target, before any
    morph: its crop on the analysis grid, its points there and their eye distance."""
    points, size = shape.extend_landmarks(landmarks, forehead)
    lo = np.maximum(np.floor(points[shape.OUTLINE].min(axis=0) - 2).astype(int), 0)
    hi = np.ceil(points[shape.OUTLINE].max(axis=0) + 2).astype(int) + 1  # as Crop.around
    crop = image[lo[1] : hi[1], lo[0] : hi[0]]
    grid, step = mask.analysis_grid((crop.shape[1], crop.shape[0]), size, grid_face_px)
    own = (landmarks[: shape.N_LANDMARKS] - lo + 0.5) / np.asarray(step) - 0.5
    return shrink(crop, grid), own, inter_ocular(own)


T = TypeVar("T")
# One face's results, keyed by what they were computed from; a context
# variable, so threads and tasks each see their own face's.
_FACE_MEMO: ContextVar[dict | None] = ContextVar("face_memo", default=None)


@contextlib.contextmanager
def face_scope() -> Iterator[None]:
    """Within this, ``once`` computes each key once; nothing outlives it (so a
    benchmark repeating a swap pays every step each time)."""
    token = _FACE_MEMO.set({})
    try:
        yield
    finally:
        _FACE_MEMO.reset(token)


def once(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, or what it gave for ``key`` before in this ``face_scope``
    (the key must say everything the result depends on: its inputs' bytes).
    Outside a scope it is simply computed."""
    memo = _FACE_MEMO.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]
