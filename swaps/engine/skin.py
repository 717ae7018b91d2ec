"""Skin detection for the forehead band of the mask.

Above the brows the swapped region has no landmarks to follow, and either face
may have hair there (bangs, a stray strand). Pasting the source's hair onto the
target, or source skin over the target's bangs, is the most visible failure of
a landmark swap, so in that band the mask keeps only pixels that look like the
face's own skin in *both* images. Skin is judged against each face's cheeks
and nose (robust statistics in YCrCb), so it works for any skin tone and light.
"""

from __future__ import annotations

import cv2
import numpy as np

from . import regions

# Cheeks and nose, below the eyes and above the mouth: reliably bare skin.
REFERENCE = np.array([1, 28, 15, 13, 33, 3])
# Hue: robust-sigma floor (Cr, Cb) and the distances, in those sigmas, below
# which a pixel is skin and above which it is not.
CHROMA_FLOOR = 4.0
LOW, HIGH = 2.5, 4.5
# Brightness: shading spreads skin over a wide range, so instead of a sigma the
# reference's 5th-95th percentile range, widened, is accepted; outside it the
# distance counts in units of 5% of the median brightness (dark hair on light
# skin lands far out, a forehead a bit more shaded than the cheeks does not).
DARKER, BRIGHTER = 0.85, 1.10
Y_UNIT = 0.05
# The speckle blur of the band weight, and how far its kernel reaches (OpenCV
# sizes a float Gaussian's kernel to 2 * round(4 sigma) + 1 taps).
BLUR_SIGMA = 1.0
BLUR_REACH = round(4 * BLUR_SIGMA)


def skin_likelihood(pixels: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per-pixel [0, 1] "looks like the skin of the ``reference`` pixels" for
    BGR ``pixels`` of any shape (..., 3); ``reference`` is (n, 3) BGR."""
    if len(reference) < 8:  # too small to judge: keep everything
        return np.ones(pixels.shape[:-1], np.float32)
    # The mask's band and the strands' test judge the source on the same cheeks.
    ref = np.ascontiguousarray(reference)
    key = ("skin_reference", ref.dtype.str, ref.tobytes())
    stats = regions.once(key, lambda: _reference_stats(ref))
    med, chroma_scale, (lo, hi) = stats
    # Per channel plane rather than over a strided (n, 2) view: the same
    # float32 arithmetic, bit for bit, in half the time.
    y, cr, cb = _ycrcb(pixels)
    cr = (cr - med[1]) / chroma_scale[0]
    cb = (cb - med[2]) / chroma_scale[1]
    chroma = np.sqrt((cr * cr + cb * cb) / 2)
    outside = np.maximum(np.maximum(lo * DARKER - y, y - hi * BRIGHTER), 0.0)
    bright = outside / max(Y_UNIT * med[0], 2.0)
    dist = np.maximum(chroma, bright)
    likely = np.clip((HIGH - dist) / (HIGH - LOW), 0.0, 1.0).astype(np.float32, copy=False)
    return likely.reshape(pixels.shape[:-1])


def _reference_stats(reference: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``reference_stats`` of (n, 3) BGR pixels, read-only (shared by a face's steps)."""
    stats = reference_stats(_ycrcb(reference, np.uint8))
    for values in stats:
        values.flags.writeable = False
    return stats


# np.percentile's q for the brightness range, as it scales it (float64).
_Y_RANGE_Q = np.true_divide([5, 95], 100)


def reference_stats(ref: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From (3, n) uint8 Y, Cr, Cb planes: the float32 medians, the chroma
    sigmas (1.4826 MAD, floored) and Y's 5th and 95th percentiles (float64).

    The same numbers as np.median and np.percentile (linear) give, from one
    radix sort of the 8-bit levels (stable sorts of small integers are radix
    sorts): every median and half-difference of levels is exact in float32,
    and the percentiles repeat numpy's interpolation step for step. About 3x
    cheaper on the few thousand reference pixels.
    """
    n = ref.shape[1]
    mid = [(n - 1) // 2, n // 2]
    levels = np.sort(ref, axis=1, kind="stable")
    twice_med = levels[:, mid].sum(axis=1, dtype=np.int16)
    med = twice_med.astype(np.float32) / np.float32(2)
    # Twice the deviations from the median: whole numbers, sorted like levels.
    deviations = np.abs(2 * ref[1:].astype(np.int16) - twice_med[1:, None])
    twice_mad = np.sort(deviations, axis=1, kind="stable")[:, mid].sum(axis=1)
    chroma_scale = np.maximum(1.4826 * (twice_mad.astype(np.float32) / np.float32(4)), CHROMA_FLOOR)
    return med, chroma_scale, _percentiles(levels[0], _Y_RANGE_Q)


def _percentiles(ordered: np.ndarray, q: np.ndarray) -> np.ndarray:
    """np.percentile(ordered.astype(float32), 100 * q) of sorted ``ordered``
    (its "linear" method): the same float64 index, gamma and interpolation."""
    n = len(ordered)
    virtual = (n - 1) * q
    below = np.floor(virtual).astype(np.intp)
    gamma = virtual - below
    a = ordered[below].astype(np.float32)
    b = ordered[np.minimum(below + 1, n - 1)].astype(np.float32)
    step = b - a  # float32, as numpy subtracts the two neighbours
    return np.where(gamma >= 0.5, b - step * (1 - gamma), a + step * gamma)


def _ycrcb(pixels: np.ndarray, dtype: type = np.float32) -> np.ndarray:
    """(3, n) planes Y, Cr, Cb of BGR ``pixels`` (..., 3), flattened, as ``dtype``."""
    # One row of pixels, not a column: OpenCV converts row by row, and n rows
    # of one pixel cost 10x the conversion itself.
    row = np.ascontiguousarray(pixels.reshape(1, -1, 3))
    ycc = cv2.cvtColor(row, cv2.COLOR_BGR2YCrCb).reshape(-1, 3)
    return np.ascontiguousarray(ycc.T, dtype=dtype)


def reference_mask(landmarks: np.ndarray, grid: tuple[int, int], step: tuple[float, float]):
    """Boolean grid mask of the cheek-and-nose reference region."""
    pts = (landmarks[REFERENCE] + 0.5) / np.asarray(step) - 0.5
    out = np.zeros((grid[1], grid[0]), np.uint8)
    cv2.fillPoly(out, [np.round(pts).astype(np.int32)], 1)
    return out.astype(bool)


def band_weight(
    source: np.ndarray,
    target: np.ndarray,
    landmarks: np.ndarray,
    band: np.ndarray,
    step: tuple[float, float],
) -> np.ndarray:
    """Mask multiplier: inside ``band`` (grid bool), skin in both images; 1 elsewhere.

    ``source`` and ``target`` are the warped source and the target on the grid;
    ``landmarks`` the target's 68 points in crop pixels.
    """
    grid = (target.shape[1], target.shape[0])
    ref = reference_mask(landmarks, grid, step)
    # The blur below reads BLUR_REACH cells around each band cell and nothing
    # else is kept, so skin is judged there only (a third of the grid, typically).
    reach = 2 * BLUR_REACH + 1
    near = cv2.dilate(band.astype(np.uint8), np.ones((reach, reach), np.uint8))
    # Flat indices: take/put of 3-channel pixels is ~4x faster than a 2-D mask.
    near, ref = np.flatnonzero(near), np.flatnonzero(ref)
    src, dst = source.reshape(-1, 3), target.reshape(-1, 3)
    likely = [skin_likelihood(im.take(near, 0), im.take(ref, 0)) for im in (src, dst)]
    both = np.zeros(band.shape, np.float32)
    np.put(both, near, likely[0] * likely[1])
    # A light blur: isolated speckles would otherwise punch pinholes in the mask.
    both = cv2.GaussianBlur(both, (0, 0), BLUR_SIGMA)
    return np.where(band, both, 1.0).astype(np.float32, copy=False)
