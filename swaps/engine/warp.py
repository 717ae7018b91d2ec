"""Piecewise-affine warp of the source face onto the target's landmarks.

Instead of warping ~160 triangles one by one (a warpAffine, a mask and a copy
each), the per-triangle affines are evaluated on a coarse grid, the grid is
upsampled bilinearly to a dense map and a single ``cv2.remap`` does the
sampling. Bilinear upsampling reproduces an affine map exactly inside each
triangle, so the only difference from the exact warp is a slight smoothing of
the kinks along triangle edges, which if anything looks better.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

# fillConvexPoly's sub-pixel precision: vertices in 1/16 px.
_SHIFT = 4
# Triangles smaller than this (px^2) are degenerate: no affine can be solved.
_MIN_AREA = 0.05


def triangle_affines(dst: np.ndarray, src: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """(n + 1, 2, 3) affines mapping each dst triangle onto its src triangle.

    Entry 0 is a least-squares affine over all points, used where no triangle
    covers a pixel (outside the frame points) and for degenerate triangles.
    """
    ones = np.ones((len(dst), 1))
    fallback = np.linalg.lstsq(np.hstack([dst, ones]), src, rcond=None)[0].T
    # Solve A @ [x y 1]^T (3x3 per triangle) = src corners, for all triangles at once.
    corners = np.concatenate([dst[triangles], np.ones((len(triangles), 3, 1))], axis=2)
    ok = triangle_areas(dst, triangles) >= _MIN_AREA
    corners[~ok] = np.eye(3)  # placeholder so the batch solve never sees a singular matrix
    solved = np.linalg.solve(corners, src[triangles]).transpose(0, 2, 1)
    solved[~ok] = fallback
    return np.concatenate([fallback[None], solved])


def triangle_areas(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    a, b, c = (points[triangles[:, k]] for k in range(3))
    cross = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (c[:, 0] - a[:, 0]) * (b[:, 1] - a[:, 1])
    return np.abs(cross) / 2


def triangle_labels(
    dst: np.ndarray, triangles: np.ndarray, grid: tuple[int, int], step: tuple[float, float]
) -> np.ndarray:
    """Index (1-based) of the triangle covering each grid cell centre; 0 = none."""
    labels = np.zeros((grid[1], grid[0]), dtype=np.int32)
    # Grid cell (u, v) has its centre at crop pixel ((u + .5) * sx - .5, ...):
    # the pixel-centre convention cv2.resize uses when upsampling the grid.
    to_grid = (dst + 0.5) / np.asarray(step) - 0.5
    corners = np.round(to_grid * (1 << _SHIFT)).astype(np.int32)[triangles]
    # A closed mouth collapses the inner-lip triangles to lines; they have no
    # affine, and the lip triangles around them cover those pixels.
    drawable = np.flatnonzero(triangle_areas(dst, triangles) >= _MIN_AREA)
    for k in drawable.tolist():  # ~160 small fills: keep the loop body lean
        cv2.fillConvexPoly(labels, corners[k], k + 1, cv2.LINE_8, _SHIFT)
    return labels


def dense_map(
    dst: np.ndarray,
    src: np.ndarray,
    triangles: np.ndarray,
    size: tuple[int, int],
    grid: tuple[int, int],
) -> np.ndarray:
    """A (h, w, 2) float32 map for cv2.remap: target crop pixel -> source pixel.

    ``dst`` points are in crop pixels, ``src`` points in source pixels; the map
    is evaluated on a ``grid`` (cols, rows) and upsampled to ``size`` (w, h).
    """
    w, h = size
    if grid == size:
        return _coarse_map(dst, src, triangles, size, grid)
    # cv2.resize clamps within half a cell of the border; evaluate one extra
    # cell all round and cut it off, so the map is exact up to the crop edge.
    px, py = math.ceil(w / grid[0]), math.ceil(h / grid[1])
    padded = (w + 2 * px, h + 2 * py)
    coarse = _coarse_map(dst + (px, py), src, triangles, padded, (grid[0] + 2, grid[1] + 2))
    full = cv2.resize(coarse, padded, interpolation=cv2.INTER_LINEAR)
    return full[py : py + h, px : px + w]


def _coarse_map(
    dst: np.ndarray,
    src: np.ndarray,
    triangles: np.ndarray,
    size: tuple[int, int],
    grid: tuple[int, int],
) -> np.ndarray:
    """The map sampled at the centres of a ``grid`` laid over ``size``."""
    step = (size[0] / grid[0], size[1] / grid[1])
    # take() with int32 indices converts them on every call (5x its cost): once.
    labels = triangle_labels(dst, triangles, grid, step).astype(np.intp)
    table = triangle_affines(dst, src, triangles).reshape(-1, 6)
    xs = (np.arange(grid[0]) + 0.5) * step[0] - 0.5
    ys = ((np.arange(grid[1]) + 0.5) * step[1] - 0.5)[:, None]
    out = np.empty((grid[1], grid[0], 2), np.float32)
    for k in range(2):
        # Each coefficient gathered into its own contiguous plane and combined in
        # place: the same float64 sums, (a * x + b * y) + c, in 25% less time
        # than strided reads of one (h, w, 6) gather.
        a, b, c = (table[:, 3 * k + j].take(labels) for j in range(3))
        a *= xs
        b *= ys
        a += b
        a += c
        out[..., k] = a
    return out


def warp_face(
    source: np.ndarray,
    src_points: np.ndarray,
    dst_points: np.ndarray,
    triangles: np.ndarray,
    size: tuple[int, int],
    grid: tuple[int, int],
    interpolation: int = cv2.INTER_LINEAR,
) -> np.ndarray:
    """Warp ``source`` so ``src_points`` land on ``dst_points`` (crop pixels).

    Returns a BGR image of ``size`` (w, h): the source face in the target's pose.
    """
    # remap converts float maps to fixed point (1/32 px) as it goes, and that
    # costs more than the sampling; converting first nearly halves its time
    # (and the float map, twice the size, is freed before sampling).
    mapping = dense_map(dst_points, src_points, triangles, size, grid)
    fixed, fraction = cv2.convertMaps(mapping, None, cv2.CV_16SC2)
    del mapping
    return cv2.remap(
        source, fixed, fraction, interpolation=interpolation, borderMode=cv2.BORDER_REPLICATE
    )


def prefilter_source(
    source: np.ndarray, points: np.ndarray, region: tuple[int, int, int, int], scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """Crop ``region`` (x, y, w, h) of the source and shrink it by ``scale``.

    When the source face is much larger than the target face, bilinear
    sampling would skip pixels and alias (jagged hair, shimmering skin);
    shrinking with area averaging first avoids that and is cheaper to warp.
    Returns the smaller image and ``points`` in its coordinates.
    """
    x, y, w, h = region
    crop = source[y : y + h, x : x + w]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    sx, sy = size[0] / w, size[1] / h
    moved = (points - (x, y) + 0.5) * (sx, sy) - 0.5
    return small, moved
