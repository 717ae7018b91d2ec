"""Optional restoration of a swapped face: denoise, sharpen, re-grain (OpenCV only).

A swapped face is usually softer than the photo around it (the source was
resampled, often upscaled, and warped with bilinear sampling) and carries the
source photo's noise rather than the target's grain. ``enhance_face`` fixes
both, inside the face only:

1. light denoise (bilateral filter, strength from the face's estimated noise),
2. unsharp mask with a radius proportional to the face size, stronger when the
   swapped face is softer than the target's original face, its overshoot
   clamped to the local min/max so edges get no halos,
3. detail transfer: the target photo's own finest texture (grain, pores),
   amplitude-limited so edges and features do not carry over, on the skin
   only (eyes, brows and mouth excluded), where the result lacks it.

Everything happens in a crop around the face and is blended back with a soft
weight that is exactly zero outside the face outline: pixels outside the face
come back bit-identical, and the weight ramps up inside the outline so the
blend seam of the swap itself is left alone.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from . import shape
from .texture import noise_sigma

# Lengths in face units (the face size is about the face width in pixels).
FOREHEAD = 0.12  # the region reaches this far above the brows (inside the swap's)
ERODE = 0.075  # the weight is 0 up to ~this far inside the outline (3 sigmas)
FEATHER = 0.025  # Gaussian sigma of the weight's soft edge
USM_SIGMA = 0.008  # unsharp-mask radius: 1.6 px on a 200 px face
USM_SIGMA_PX = (0.7, 4.0)
BASE_AMOUNT = 0.6  # unsharp-mask gain on a face as sharp as the target's
AMOUNT_RANGE = (0.3, 2.0)  # gain on a face much sharper / much softer than the target's
OVERSHOOT = 3  # levels a sharpened pixel may pass its 3x3 neighbours' range
GRAIN_SIGMA = 0.8  # px: the finest band, where grain lives
GRAIN_CLIP = 2.0  # texture above this many noise sigmas is structure: clipped
FEATURE_PAD = 0.06  # eyes, brows and mouth hulls grow this much before excluding
STATS_PX = 512  # noise and sharpness are measured on a central patch this big
_GRID_FACE_PX = 128  # masks are drawn on a grid where the face is this wide
_SHIFT = 4

_EYES_BROWS = (np.r_[17:22, 36:42], np.r_[22:27, 42:48])
_MOUTH = np.r_[48:60]


def enhance_face(
    image: np.ndarray,
    original: np.ndarray,
    landmarks: np.ndarray,
    strength: float = 1.0,
    *,
    in_place: bool = False,
) -> np.ndarray:
    """``image`` (the swap result) with the face at ``landmarks`` restored: a copy,
    or ``image`` itself with ``in_place`` (saves a copy of a big photo).

    ``original`` is the target before the swap (same size), the reference for
    sharpness and grain; ``landmarks`` are the target face's 68 points.
    ``strength`` scales the sharpening and re-graining (0 = denoise only).
    """
    points, face_size = shape.extend_landmarks(landmarks, FOREHEAD)
    x, y, w, h = _crop_box(points[shape.OUTLINE], face_size, image.shape)
    if w < 8 or h < 8:
        return image if in_place else image.copy()
    local = landmarks - (x, y)
    outline = points[shape.OUTLINE] - (x, y)
    region, reference = image[y : y + h, x : x + w], original[y : y + h, x : x + w]
    weight = face_weight(outline, (w, h), face_size)
    skin = weight * (1.0 - _feature_mask(local, (w, h), face_size))
    restored = restore(region, reference, weight, skin, face_size, strength)
    out = image if in_place else image.copy()
    out[y : y + h, x : x + w] = cv2.blendLinear(region, restored, 1.0 - weight, weight)
    return out


def restore(
    region: np.ndarray,
    reference: np.ndarray,
    weight: np.ndarray,
    skin: np.ndarray,
    face_size: float,
    strength: float = 1.0,
) -> np.ndarray:
    """Denoised, sharpened and re-grained ``region`` (uint8, same size).

    Noise and sharpness are measured on a central patch of at most
    ``STATS_PX`` square: enough pixels for a steady estimate, and a 2000 px
    face costs no more to measure than a 500 px one.
    """
    patch = _central_patch(region.shape)
    gray, ref_gray = _gray(region[patch]), _gray(reference[patch])
    inside = weight[patch] > 0.5
    denoised = _denoise(region, noise_sigma(gray, inside))
    sigma = float(np.clip(USM_SIGMA * face_size, *USM_SIGMA_PX))
    softness = band_energy(ref_gray, inside, sigma) / max(band_energy(gray, inside, sigma), 1e-6)
    amount = strength * float(np.clip(BASE_AMOUNT * softness, *AMOUNT_RANGE))
    sharp = unsharp(denoised, sigma, amount)
    share = _grain_share(ref_gray, _gray(sharp[patch]), inside)
    if strength <= 0 or share <= 0:
        return sharp
    grain = _grain(_gray(reference), skin, noise_sigma(ref_gray, inside)) * (share * strength)
    return np.clip(sharp + grain[..., None], 0, 255).astype(np.uint8)


def unsharp(image: np.ndarray, sigma: float, amount: float) -> np.ndarray:
    """Unsharp mask whose result never leaves the 3x3 neighbourhood's range by
    more than ``OVERSHOOT`` levels: edges get crisper without bright/dark rims."""
    if amount <= 0:
        return image
    blurred = cv2.GaussianBlur(image, (0, 0), sigma)
    sharp = cv2.addWeighted(image, 1.0 + amount, blurred, -amount, 0.0)
    kernel = np.ones((3, 3), np.uint8)
    low = cv2.subtract(cv2.erode(image, kernel), OVERSHOOT)
    high = cv2.add(cv2.dilate(image, kernel), OVERSHOOT)
    return cv2.min(cv2.max(sharp, low), high)


def band_energy(gray: np.ndarray, inside: np.ndarray, sigma: float) -> float:
    """Mean squared detail finer than ``sigma`` inside the face: how sharp it is."""
    if not inside.any():
        return 0.0
    detail = gray.astype(np.float32) - cv2.GaussianBlur(gray, (0, 0), sigma).astype(np.float32)
    return float(np.mean(detail[inside] ** 2))


def face_weight(outline: np.ndarray, size: tuple[int, int], face_size: float) -> np.ndarray:
    """Float32 weights over a crop of ``size``: 0 outside the outline's hull,
    rising softly to 1 a little inside it."""
    grid, scale = _grid(size, face_size)
    hard = _hull((outline + 0.5) * scale - 0.5, grid)
    px = face_size * scale
    radius = max(1, round(ERODE * px))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    soft = cv2.GaussianBlur(cv2.erode(hard, kernel), (0, 0), FEATHER * px)
    soft = cv2.resize(soft, size, interpolation=cv2.INTER_LINEAR) * _hull(outline, size)
    return cv2.threshold(soft, 1.0 / 512, 0, cv2.THRESH_TOZERO)[1]


def _feature_mask(local: np.ndarray, size: tuple[int, int], face_size: float) -> np.ndarray:
    """1 over the eyes with their brows and over the mouth (padded), else 0."""
    grid, scale = _grid(size, face_size)
    hard = np.zeros((grid[1], grid[0]), np.float32)
    for part in (*_EYES_BROWS, _MOUTH):
        hard = np.maximum(hard, _hull((local[part] + 0.5) * scale - 0.5, grid))
    radius = max(1, round(FEATURE_PAD * face_size * scale))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    hard = cv2.GaussianBlur(cv2.dilate(hard, kernel), (0, 0), radius / 2)
    return cv2.resize(hard, size, interpolation=cv2.INTER_LINEAR)


def _denoise(region: np.ndarray, sigma: float) -> np.ndarray:
    """Edge-preserving smoothing just strong enough for the measured noise."""
    if sigma < 1.0:
        return region
    return cv2.bilateralFilter(region, 5, min(3.0 * sigma, 30.0), 2.0)


def _grain_share(ref_gray: np.ndarray, result_gray: np.ndarray, inside: np.ndarray) -> float:
    """How much of the target's finest texture to add: only the part of its
    energy the result lacks (0 when the result has as much)."""
    ref_band = band_energy(ref_gray, inside, GRAIN_SIGMA)
    have = band_energy(result_gray, inside, GRAIN_SIGMA)
    return math.sqrt(1.0 - have / ref_band) if ref_band > have else 0.0


def _grain(ref_gray: np.ndarray, skin: np.ndarray, ref_noise: float) -> np.ndarray:
    """The target's finest (luminance) texture on the skin, soft-clipped so edges
    and features stay out: a signed float32 layer to add to every channel."""
    ref = ref_gray.astype(np.float32)
    detail = ref - cv2.GaussianBlur(ref, (0, 0), GRAIN_SIGMA)
    limit = GRAIN_CLIP * max(ref_noise, 1.0)
    return limit * np.tanh(detail / limit) * skin


def _central_patch(shape_hw: tuple[int, ...]) -> tuple[slice, slice]:
    height, width = shape_hw[:2]
    h, w = min(height, STATS_PX), min(width, STATS_PX)
    y, x = (height - h) // 2, (width - w) // 2
    return slice(y, y + h), slice(x, x + w)


def _crop_box(
    outline: np.ndarray, face_size: float, shape_hw: tuple[int, ...]
) -> tuple[int, int, int, int]:
    margin = 0.05 * face_size + 8
    x0, y0 = np.floor(outline.min(axis=0) - margin).astype(int)
    x1, y1 = np.ceil(outline.max(axis=0) + margin).astype(int)
    x0, y0 = max(0, int(x0)), max(0, int(y0))
    x1, y1 = min(shape_hw[1], int(x1)), min(shape_hw[0], int(y1))
    return x0, y0, max(0, x1 - x0), max(0, y1 - y0)


def _grid(size: tuple[int, int], face_size: float) -> tuple[tuple[int, int], float]:
    scale = min(1.0, _GRID_FACE_PX / max(face_size, 1.0))
    return (max(2, math.ceil(size[0] * scale)), max(2, math.ceil(size[1] * scale))), scale


def _hull(points: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    hull = cv2.convexHull(np.round(points * (1 << _SHIFT)).astype(np.int32))
    mask = np.zeros((grid[1], grid[0]), np.uint8)
    cv2.fillConvexPoly(mask, hull, 255, lineType=cv2.LINE_AA, shift=_SHIFT)
    return mask.astype(np.float32) * (1.0 / 255)


def _gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
