"""Matching the source face's sharpness to the target photo's.

A crisp studio portrait pasted into a soft, out-of-focus or heavily
compressed group photo gives itself away: the face is sharper than the skin,
hair and background around it. So the warped source is blurred, just enough,
when the target is the softer of the two.

Sharpness is judged with the face ~FACE_PX across by how the detail's energy
splits between the finest octave and the next one: a soft image has little in
the finest compared to the next, however much texture (wrinkles, stubble) the
face has. One scale for both faces, so the measure is about the look at a
normal viewing size; a fixed one, not the analysis grid's, because the measure
and its tolerance belong to it (on a 128 px grid the shared pair's sharp
portrait read as soft and its swapped face was blurred by 2.8 grid pixels).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from . import mask
from .images import shrink

# The face's size (px) where sharpness is judged.
FACE_PX = 160

# Blurs tried on the source, grid pixels; the first that is no sharper wins.
SIGMAS = (0.5, 0.75, 1.0, 1.4, 2.0, 2.8)
# The source is left alone unless it is clearly sharper than the target: the
# measure also depends on the face's texture (smooth skin, wrinkles, noise),
# and a blur is only worth its cost (~3 ms per MP of face crop) when it shows.
TOLERANCE = 1.3


def sharpness(grey: np.ndarray, region: np.ndarray) -> float:
    """Detail energy of the finest octave over the next one, where ``region`` != 0.

    Both are mean squared Laplacians: of ``grey`` itself, and of it halved
    (``pyrDown``), so the measure is cheap (no wide blurs).
    """
    fine = cv2.mean(cv2.pow(cv2.Laplacian(grey, cv2.CV_32F), 2), region)[0]
    half = cv2.pyrDown(grey)
    half_region = cv2.resize(region, half.shape[1::-1], interpolation=cv2.INTER_NEAREST)
    mid = cv2.mean(cv2.pow(cv2.Laplacian(half, cv2.CV_32F), 2), half_region)[0]
    return fine / max(mid, 1e-6)


def matching_blur(source: np.ndarray, target: np.ndarray, region: np.ndarray) -> float:
    """Gaussian sigma (grid pixels) that makes ``source`` no sharper than ``target``.

    Both are BGR or grey images on the analysis grid, ``region`` a boolean mask of the
    face there; 0 when the source is not clearly the sharper.
    """
    region = region.astype(np.uint8)
    if cv2.countNonZero(region) < 64:
        return 0.0
    x, y, w, h = cv2.boundingRect(region)
    box = slice(y, y + h), slice(x, x + w)
    inside = region[box]
    src, dst = (_grey(np.ascontiguousarray(im[box])).astype(np.float32) for im in (source, target))
    goal = sharpness(dst, inside) * TOLERANCE
    if sharpness(src, inside) <= goal:
        return 0.0
    lo, hi = 0, len(SIGMAS) - 1  # the smallest sigma that is soft enough (or the largest)
    while lo < hi:
        mid = (lo + hi) // 2
        if sharpness(cv2.GaussianBlur(src, (0, 0), SIGMAS[mid]), inside) <= goal:
            hi = mid
        else:
            lo = mid + 1
    return SIGMAS[lo]


def source_blur(
    source: np.ndarray, target: np.ndarray, inner: np.ndarray, face_size: float
) -> float:
    """Gaussian sigma, in crop pixels, that makes the warped ``source`` no sharper
    than ``target`` (BGR crops of one size) over the inner face (``inner``: its
    points in crop pixels; ``face_size`` the face's size there), judged with the
    face ~FACE_PX across on the inner face's box only."""
    rows, cols = source.shape[:2]
    x0, y0 = np.maximum(np.floor(inner.min(axis=0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(inner.max(axis=0)).astype(int) + 1, (cols, rows))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return 0.0
    grid, step = mask.analysis_grid((int(x1 - x0), int(y1 - y0)), face_size, FACE_PX)
    region = mask.hull_mask(inner - (x0, y0), grid, step) > 0.5
    box = slice(y0, y1), slice(x0, x1)
    # Grey before the shrink: a third of the pixels to resample (only grey is judged).
    src, dst = (shrink(_grey(im[box]), grid) for im in (source, target))
    return matching_blur(src, dst, region) * step[0]


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image


def _halve(image: np.ndarray, first: bool) -> np.ndarray:
    if first:  # a 2x2 average: a quarter of pyrDown's cost at full size
        h, w = image.shape[:2]
        return cv2.resize(image, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_LINEAR)
    return cv2.pyrDown(image)


def soften(image: np.ndarray, sigma_px: float) -> np.ndarray:
    """``image`` blurred by about ``sigma_px`` pixels, cheaply.

    A wide blur halves the image until the rest of the blur is ~1.5 px there,
    blurs that and upsamples: a 4 MP face crop costs ~8 ms instead of ~50.
    """
    if sigma_px <= 0:
        return image
    h, w = image.shape[:2]
    small, scale = image, 1.0
    while sigma_px / scale > 1.5 and min(small.shape[:2]) >= 16:
        small, scale = _halve(small, scale == 1.0), scale * 2.0
    # The halvings blurred by ~0.5 px of the last one, upsampling adds ~0.4.
    rest = math.sqrt(max((sigma_px / scale) ** 2 - (0.41 if scale > 1 else 0.0), 0.09))
    small = cv2.GaussianBlur(small, (0, 0), rest)
    if scale == 1.0:
        return small
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
