"""The face's two halves compared, against the target's: does a lifted shadow
read like lit skin of the same face?

A source lit hard from one side and relit to the target's even light has the
right level on its once-dark half (``quality.shade_difference``,
``light_difference``), and can still read as pasted: that half is greyer or
tinted, flatter, noisier than the lit one. Each measure here is light-invariant
(a half only darker or lighter reads 0) and relative to the target's own halves
(a face is not symmetric: a target's hair over one cheek, its blush):

- colour: the chromaticity ((a*, b*) over L* + 16: colour for its lightness)
  smoothed at CHROMA_BLUR_IOD; each half's mean distance from the target's
  there, the halves' difference;
- texture: the contrast of the log grey level's TEXTURE_BAND_IOD band (pores,
  stubble, fine wrinkles), the halves' ratio against the target's;
- noise: the relative noise (Immerkaer's estimate on the log grey level, at the
  photo's own pixels), the halves' ratio against the target's;
- blotch: the unevenness of the skin's brightness at BLOTCH_BAND_IOD (patches
  0.2-0.6 of the eye distance across: a light map's uneven lift, a shadow's
  edge lifted only in part), each half's local log grey level read over its
  skin only (so features' edges are not read), the halves' ratio against the
  target's.

The halves are the face's skin (the 68 points' hull shrunk to HALF_SHRINK, eyes,
brows, lips and nostrils out) either side of the line from the nose's bridge
(point 27) to the chin (point 8).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .mask import feature_mask
from .texture import NOISE_KERNEL, band_level

HALF_SHRINK = 0.85
# A lifted shadow's tints are patches about this size; pores and noise are finer.
CHROMA_BLUR_IOD = 0.1
TEXTURE_BAND_IOD = (0.03, 0.12)
BLOTCH_BAND_IOD = (0.06, 0.2)
MIN_PIXELS = 16


@dataclass(frozen=True)
class HalfMismatch:
    """``chroma``: the halves' difference in mean distance from the target's
    colour (chromaticity units, ~a* at mid lightness); ``texture`` and
    ``noise`` and ``blotch``: ``exp(|log(out_a / out_b) - log(tgt_a / tgt_b)|) - 1``,
    so 0.3 is one half 30% flatter (or busier) than the target's halves say."""

    chroma: float
    texture: float
    noise: float
    blotch: float = 0.0


def skin_halves(points: np.ndarray, shape_hw: tuple[int, ...], iod: float) -> list[np.ndarray]:
    """The face's skin either side of its mid-line: two boolean masks of
    ``shape_hw`` for the 68 ``points`` (``iod`` pixels between the eyes)."""
    centre = points.mean(axis=0)
    hull = np.zeros(shape_hw[:2], np.uint8)
    shrunk = (points - centre) * HALF_SHRINK + centre
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(shrunk).astype(np.int32)), 1)
    skin = (hull > 0) & (feature_mask(points, hull.shape, iod) == 0)
    axis = points[8] - points[27]
    ys, xs = np.mgrid[0 : skin.shape[0], 0 : skin.shape[1]]
    side = (xs - points[27, 0]) * axis[1] - (ys - points[27, 1]) * axis[0]
    return [skin & (side < 0), skin & (side > 0)]


def chromaticity(image: np.ndarray, iod: float) -> np.ndarray:
    """(a*, b*) over (L* + 16), times 100, smoothed at CHROMA_BLUR_IOD: a change
    of light (a linear-light scaling, in L*'s cube-root range) leaves it alone."""
    lab = cv2.cvtColor(image.astype(np.float32) * (1.0 / 255), cv2.COLOR_BGR2LAB)
    ab = lab[..., 1:] * (100.0 / (lab[..., :1] + 16.0))
    return cv2.GaussianBlur(ab, (0, 0), max(CHROMA_BLUR_IOD * iod, 0.5))


def _log_grey(image: np.ndarray) -> np.ndarray:
    return np.log(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32) + 4.0)


def texture_contrast(image: np.ndarray, region: np.ndarray, iod: float) -> float:
    """RMS of the log grey level's TEXTURE_BAND_IOD band over ``region``."""
    grey = _log_grey(image)
    fine, coarse = (cv2.GaussianBlur(grey, (0, 0), max(f * iod, 0.5)) for f in TEXTURE_BAND_IOD)
    return band_level(fine - coarse, region.astype(np.uint8))


def blotch_level(image: np.ndarray, region: np.ndarray, iod: float) -> float:
    """RMS of the log grey level's BLOTCH_BAND_IOD band over ``region``, each
    blur over ``region`` only (normalised convolution)."""
    grey, weight = _log_grey(image), region.astype(np.float32)
    fine, coarse = (
        cv2.GaussianBlur(grey * weight, (0, 0), max(f * iod, 0.5))
        / np.maximum(cv2.GaussianBlur(weight, (0, 0), max(f * iod, 0.5)), 1e-3)
        for f in BLOTCH_BAND_IOD
    )
    return band_level(fine - coarse, region.astype(np.uint8))


def noise_level(image: np.ndarray, region: np.ndarray) -> float:
    """Immerkaer's noise estimate (robust: the median residual) of the log grey level."""
    residual = np.abs(cv2.filter2D(_log_grey(image), cv2.CV_32F, NOISE_KERNEL))[region]
    return float(np.median(residual)) * 1.4826 / 6.0 if residual.size else 0.0


def _ratio_gap(measure, images: tuple[np.ndarray, np.ndarray], parts: list[np.ndarray]) -> float:
    logs = [
        math.log(max(measure(im, parts[0]), 1e-6)) - math.log(max(measure(im, parts[1]), 1e-6))
        for im in images
    ]
    return math.expm1(abs(logs[1] - logs[0]))


def compare(
    window: tuple[np.ndarray, np.ndarray],
    points: np.ndarray,
    iod: float,
    pixels: tuple[np.ndarray, np.ndarray, np.ndarray, float],
) -> HalfMismatch:
    """``window``: (target, output) around the face at a common scale, the 68
    ``points`` and ``iod`` there (colour, texture); ``pixels``: (target, output,
    points, iod) at the photo's own pixels (noise)."""
    parts = skin_halves(points, window[0].shape, iod)
    target, output, local, local_iod = pixels
    fine_parts = skin_halves(local, target.shape, local_iod)
    if min(int(p.sum()) for p in (*parts, *fine_parts)) < MIN_PIXELS:
        return HalfMismatch(0.0, 0.0, 0.0, 0.0)
    apart = np.linalg.norm(chromaticity(window[1], iod) - chromaticity(window[0], iod), axis=2)
    return HalfMismatch(
        abs(float(apart[parts[0]].mean()) - float(apart[parts[1]].mean())),
        _ratio_gap(lambda im, r: texture_contrast(im, r, iod), window, parts),
        _ratio_gap(noise_level, (target, output), fine_parts),
        _ratio_gap(lambda im, r: blotch_level(im, r, iod), window, parts),
    )
