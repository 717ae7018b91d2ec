"""The blend mask: where, and how softly, the source face replaces the target.

Everything is computed at the analysis resolution (the face ~128 px across):
the mask is smooth by construction, so bilinear upsampling loses nothing and
blurring a 4 MP crop with a 60 px kernel is avoided.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

_SHIFT = 4


def hull_mask(points: np.ndarray, grid: tuple[int, int], step: tuple[float, float]) -> np.ndarray:
    """Filled convex hull of ``points`` (crop pixels) on the grid, float32 0/1."""
    on_grid = (points + 0.5) / np.asarray(step) - 0.5
    hull = cv2.convexHull(np.round(on_grid * (1 << _SHIFT)).astype(np.int32))
    mask = np.zeros((grid[1], grid[0]), dtype=np.uint8)
    # Anti-aliased (8-bit only in OpenCV): the edge is sub-pixel accurate.
    cv2.fillConvexPoly(mask, hull, 255, lineType=cv2.LINE_AA, shift=_SHIFT)
    return mask.astype(np.float32) * (1.0 / 255)


def feather(hard: np.ndarray, erode_px: float, sigma_px: float) -> np.ndarray:
    """Erode ``hard`` by ``erode_px`` then blur with a Gaussian of ``sigma_px``.

    The result is multiplied by ``hard`` so it is exactly zero outside the
    hull: pixels outside the face are then left byte-identical. With the
    default erosion of ~2.5 sigma the cut at the hull edge is below 1%.
    """
    soft = hard
    radius = round(erode_px)
    if radius > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        soft = cv2.erode(hard, kernel)
    if sigma_px > 0:
        soft = cv2.GaussianBlur(soft, (0, 0), sigmaX=sigma_px, borderType=cv2.BORDER_CONSTANT)
    return soft * hard


def upsample(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear upsampling to ``size`` (w, h); values below 1/512 become 0.

    The threshold turns the interpolation's tiny tails into true zeros, so a
    pixel is either untouched or visibly part of the blend.
    """
    if mask.shape[1::-1] != size:
        mask = cv2.resize(mask, size, interpolation=cv2.INTER_LINEAR)
    return cv2.threshold(mask, 1.0 / 512, 0, cv2.THRESH_TOZERO)[1]


def analysis_grid(
    size: tuple[int, int], face_size: float, grid_face_px: float
) -> tuple[tuple[int, int], tuple[float, float]]:
    """Grid (cols, rows) over a crop of ``size`` with the face ~``grid_face_px`` across,
    and its step in crop pixels."""
    scale = min(1.0, grid_face_px / face_size)
    grid = (max(2, math.ceil(size[0] * scale)), max(2, math.ceil(size[1] * scale)))
    return grid, (size[0] / grid[0], size[1] / grid[1])


# The forehead band fades out from this share of its height above the brows to
# its top: the band's top is a guess (no landmark is there), and a straight edge
# across a forehead is the most visible seam a swap can leave.
FOREHEAD_FADE_FROM = 0.5


def forehead_fade(
    brows: np.ndarray, top: np.ndarray, grid: tuple[int, int], step: tuple[float, float]
) -> np.ndarray:
    """(h, w) float32 on the grid: 1 up to FOREHEAD_FADE_FROM of the way from the
    ``brows`` to the band's ``top`` points (crop pixels), falling linearly to 0 at the top."""
    centre, up = brows.mean(axis=0), top.mean(axis=0) - brows.mean(axis=0)
    length = float(np.linalg.norm(up))
    if length < 1e-6:
        return np.ones((grid[1], grid[0]), np.float32)
    unit = up / length
    xs = (np.arange(grid[0], dtype=np.float32) + 0.5) * step[0] - 0.5
    ys = (np.arange(grid[1], dtype=np.float32) + 0.5) * step[1] - 0.5
    t = ((xs[None, :] - centre[0]) * unit[0] + (ys[:, None] - centre[1]) * unit[1]) / length
    fade = (1.0 - t) / (1.0 - FOREHEAD_FADE_FROM)
    return np.clip(fade, 0.0, 1.0).astype(np.float32, copy=False)


# The central face, where the light's direction is read: the 68 points' hull
# shrunk about its centre to each of these shares, averaged. Averaging gives the
# region a soft edge, so no feature (an eye, a brow, a lip) sits right on it.
CORE_SHRINKS = (0.6, 0.65, 0.7, 0.75, 0.8)


def core_weights(
    landmarks: np.ndarray, grid: tuple[int, int], step: tuple[float, float]
) -> np.ndarray:
    """(h, w) float32 0..1 on the grid: the central face (``CORE_SHRINKS``) of the
    68 ``landmarks`` (crop pixels), 1 in its middle and fading out towards the outline."""
    centre = landmarks.mean(axis=0)
    masks = [hull_mask((landmarks - centre) * k + centre, grid, step) for k in CORE_SHRINKS]
    return (sum(masks) / len(masks)).astype(np.float32, copy=False)


# The features of the 68 points (iBUG 300-W): eyes, brows, lips and nostrils are
# dark or coloured by what they are, not by the light, so reads of a face's skin
# leave them out. Brows are lines, drawn this share of the inter-ocular distance
# wide; every feature is then grown by FEATURE_GROW (lashes, lids, the lips' edge).
EYES = (np.arange(36, 42), np.arange(42, 48))
BROW_LINES = (np.arange(17, 22), np.arange(22, 27))
LIPS = np.arange(48, 60)
NOSTRILS = np.arange(31, 36)
BROW_WIDTH = 0.18
FEATURE_GROW = 0.12


def feature_mask(points: np.ndarray, shape_hw: tuple[int, int], iod: float) -> np.ndarray:
    """uint8 0/1 of shape ``shape_hw``: the eyes, brows, lips and nostrils of the
    68 ``points`` (in that array's pixels, ``iod`` between the eyes)."""
    out = np.zeros(shape_hw, np.uint8)
    for idx in (*EYES, LIPS, NOSTRILS):
        cv2.fillConvexPoly(out, np.round(points[idx]).astype(np.int32), 1)
    width = max(1, round(BROW_WIDTH * iod))
    lines = [np.round(points[idx]).astype(np.int32) for idx in BROW_LINES]
    cv2.polylines(out, lines, False, 1, width)
    return grown(out, max(1, round(FEATURE_GROW * iod)))


def grown(drawn: np.ndarray, radius: int) -> np.ndarray:
    """uint8 ``drawn`` dilated by an ellipse ``radius`` pixels round, in place.

    Only the box round its pixels, ``radius`` wider, is dilated: nothing
    beyond can change, and a face's features fill a third of its grid (an
    ellipse's dilation reads every one of its ~3 r^2 taps a pixel).
    """
    x, y, w, h = cv2.boundingRect(drawn)
    if w == 0:
        return drawn
    rows, cols = drawn.shape[:2]
    box = (
        slice(max(y - radius, 0), min(y + h + radius, rows)),
        slice(max(x - radius, 0), min(x + w + radius, cols)),
    )
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    drawn[box] = cv2.dilate(drawn[box], kernel)
    return drawn
