"""Skin too deep in the source's shadow to lift, on the upper face: the target's shows.

A source lit hard from one side can be near black at its far temple: a shadow
deeper than the light map's bound (``relight.MAX_GAIN``), often with the
hairline and the brow's end in it. The light map lifts it only so far, and the
lifted steps (``lifted``) read the lit skin through the face's mirror, whose
partner there is the other brow's end or hairline, dark too: the temple and
the forehead band above the brow's end stay a grey, blurred, textureless
patch (the shared pair's selfie into base). There is no skin in the source
to lift: its darkest levels hold the camera's noise and JPEG blocks only.

So where the source was lifted out of its own shadow (``lifted``'s strength)
and the corrected face is still darker than the target's skin there
(DEFICIT, log grey, local means over the hull's skin at PATCH_IOD, the new
face's eyes, brows and nose left out), on the
upper face (the eyes' level and above: the temples and the forehead band, no
more of the face), the blend weight drops and the target's own skin shows.
The new face's eyes, brows and nose (``strands.kept_features``) are never
dropped. A target's skin lit darker than the corrected face is left alone
(the deficit is the target's brighter, never darker), as is every face that
was not lifted (no strength: nothing is computed). The shared pair's grey
temple: upper-face patch 2.95 -> 0.46 L* (``pasted.upper_patch``).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from . import colour, shape, strands
from .regions import Analysis

# The corrected face's local level below the target's (log grey) from which
# the weight drops, and where it is gone (0.1-0.25: the shared pair's grey
# patch above the brow's end stayed half there; the benchmark moved alike).
DEFICIT = (0.05, 0.2)
# Local levels are read over the skin at this share of the inter-ocular distance.
PATCH_IOD = 0.1
# The drop is softened over this share of it (no edge of its own).
SPREAD_IOD = 0.06
# The upper face: ``strands.upper_face`` (1 at the eyes' level, 0 at the
# nose's base) from the first share, fully from the second.
UPPER = (0.6, 0.9)
# The weights are made on a grid this many pixels between the eyes, as
# ``lifted``'s (at 16 or 24 px, ~0.07 ms cheaper, the fixtures' test band kept
# 3.6-3.8 L* of 4.8 instead of 2.3: the eyes and brows kept cover the temple).
WORK_IOD_PX = 32.0


def target_weight(grid: Analysis, gain: np.ndarray, strength: np.ndarray) -> np.ndarray | None:
    """(h, w) float32 factor (0..1) on the analysis ``grid`` for the blend
    weights: low where the lifted upper face (``strength``: ``lifted``'s, on its
    work grid) is still far darker than the target; None where nothing on the
    upper face was lifted. ``gain``: the light and colour steps' gain on the grid."""
    size, points, iod = _work(grid)
    if strength.shape[1::-1] != size:
        strength = cv2.resize(strength, size, interpolation=cv2.INTER_AREA)
    box = _lifted_box(strength, points, iod)
    if box is None:
        return None
    points = points - (box[1].start, 0)
    face = cv2.multiply(grid.source, gain, dtype=cv2.CV_32F)
    target = cv2.cvtColor(grid.target, cv2.COLOR_BGR2GRAY).astype(np.float32)
    greys = cv2.merge([cv2.cvtColor(face, cv2.COLOR_BGR2GRAY), target])
    logs = np.log(cv2.resize(greys, size, interpolation=cv2.INTER_LINEAR)[box] + 4.0)
    shape_hw = logs.shape[:2]
    kept = strands.kept_features(points, shape_hw, iod)
    skin = _hull(points[shape.OUTLINE], shape_hw) & ~kept
    level = colour.masked_lowpass(logs, skin.astype(np.float32), max(PATCH_IOD * iod, 0.5))
    upper = _ramp(strands.upper_face(points, shape_hw), UPPER)
    drop = _ramp(level[..., 1] - level[..., 0], DEFICIT) * strength[box] * upper * ~kept
    weight = np.ones(size[::-1], np.float32)
    weight[box] -= cv2.GaussianBlur(drop, (0, 0), max(SPREAD_IOD * iod, 0.5))
    return cv2.resize(weight, grid.grid, interpolation=cv2.INTER_LINEAR)


def _lifted_box(strength: np.ndarray, points: np.ndarray, iod: float) -> tuple[slice, slice] | None:
    """The rows down to the nose's base (the upper face's end) and the columns
    lifted there (``strength`` > 0), a blur's reach wider: nothing beyond can
    change. None when none is lifted."""
    reach = math.ceil(3 * PATCH_IOD * iod)
    rows = min(strength.shape[0], math.ceil(points[31:36, 1].max()) + reach)
    cols = np.flatnonzero(strength[: max(rows, 0)].max(axis=0, initial=0.0) > 0)
    if cols.size == 0:
        return None
    return slice(0, rows), slice(max(cols[0] - reach, 0), cols[-1] + 1 + reach)


def _work(grid: Analysis) -> tuple[tuple[int, int], np.ndarray, float]:
    """The work grid (WORK_IOD_PX between the eyes) over the analysis ``grid``:
    its size (w, h), and the new face's points and eye distance there."""
    w, h = grid.grid
    scale = min(1.0, WORK_IOD_PX / max(grid.iods[0], 1e-6))
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    sx, sy = size[0] / w, size[1] / h
    return size, (grid.points + 0.5) * (sx, sy) - 0.5, grid.iods[0] * sx


def _ramp(values: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    lo, hi = bounds
    return np.clip((values - lo) * np.float32(1 / (hi - lo)), 0.0, 1.0)


def _hull(points: np.ndarray, shape_hw: tuple[int, int]) -> np.ndarray:
    out = np.zeros(shape_hw, np.uint8)
    cv2.fillConvexPoly(out, cv2.convexHull(np.round(points).astype(np.int32)), 1)
    return out.astype(bool)
