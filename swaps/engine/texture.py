"""The source face's noise, cleaned before it is enlarged.

A face taken from a small or noisy photo (a group shot, a dark snapshot) and
laid on a bigger face is enlarged several times, and then brightened and
re-coloured by the light and colour match, often twice over in one channel
(a warm, dim snapshot into a cool studio portrait). Its noise and its JPEG's
colour blocks grow with it: a pixel's speckle becomes a blotch, a blue
channel's noise a streak of green and magenta across the cheek.

The source is cleaned at its own resolution, where it is small and the work
cheap, and only as much as the enlargement asks:

- colour: the chroma (YCrCb) is smoothed over about a source pixel and a half.
  A JPEG keeps colour at half resolution anyway, and the colour of skin,
  lips and eyes is broader than that;
- light: the luma goes through an edge-keeping (bilateral) filter whose range
  is the noise's own level (measured on the face, ``noise_sigma``), so
  speckle goes and the features' edges stay.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

# Cleaning starts at this enlargement (target face / source face) and is full
# from the second: a face laid at about its own size keeps its texture.
ENLARGE = (1.25, 2.0)
# The luma's noise is cleaned only from a bigger enlargement: its fine texture
# is also what the recogniser reads (held-out d_src 0.397 -> 0.406 cleaned from
# 1.25x, 0.401 from 3x, 0.396 from 5x).
LUMA_ENLARGE = (5.0, 10.0)
CHROMA_SIGMA = 1.5  # source pixels
# The luma filter's range, in noise sigmas, and its reach (source pixels).
LUMA_RANGE = 2.5
LUMA_SPACE = 1.2
# Immerkaer's operator (the difference of two Laplacians): zero on any plane,
# so it reads noise, not shading.
_NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


def noise_sigma(grey: np.ndarray, region: np.ndarray | None = None) -> float:
    """Standard deviation of ``grey``'s noise (levels), Immerkaer's estimate,
    over ``region`` (!= 0) or everywhere. Edges read as noise too, so it is
    an upper bound on a face with sharp features."""
    response = np.abs(cv2.filter2D(grey.astype(np.float32), -1, _NOISE_KERNEL))
    mean = cv2.mean(response, region)[0] if region is not None else float(response.mean())
    return math.sqrt(math.pi / 2) * mean / 6.0


def enlargement_share(scale: float, bounds: tuple[float, float] = ENLARGE) -> float:
    """0..1: how much of the cleaning an enlargement of ``scale`` gets."""
    lo, hi = bounds
    return min(max((scale - lo) / (hi - lo), 0.0), 1.0)


def clean_source(region: np.ndarray, scale: float) -> np.ndarray:
    """``region`` (BGR uint8, the source face and a margin) with its noise
    cleaned for an enlargement of ``scale``; ``region`` itself below ENLARGE."""
    share = enlargement_share(scale)
    if share <= 0.0 or min(region.shape[:2]) < 8:
        return region
    ycc = cv2.cvtColor(region, cv2.COLOR_BGR2YCrCb)
    luma, cr, cb = cv2.split(ycc)
    sigma = CHROMA_SIGMA * share
    cr, cb = (cv2.GaussianBlur(c, (0, 0), sigma) for c in (cr, cb))
    h, w = luma.shape
    centre = luma[h // 4 : h - h // 4, w // 4 : w - w // 4]
    level = noise_sigma(centre) * enlargement_share(scale, LUMA_ENLARGE)
    if level > 0.5:
        luma = cv2.bilateralFilter(luma, 5, LUMA_RANGE * level, LUMA_SPACE)
    return cv2.cvtColor(cv2.merge([luma, cr, cb]), cv2.COLOR_YCrCb2BGR)
