"""The target photo's tone curve on the swapped face (half of a quantile match),
and its relief (``relief_gain``, below).

Every photo maps the scene's light to pixel values through its own curve: an
overexposed flash photo squeezes a face's bright tones together near white, a
dim or flat one spreads them out. The gain steps before this one (``relight``,
``colour``) match local means and the light's direction, so a source face keeps
its own camera's curve: a top-lit studio face pasted into an overexposed group
photo still shows its shadow under the nose and its dark eye sockets at full
contrast, where the target's face is flat near white.

So where the target's curve is the flatter one (its inner face's grey levels,
smoothed a little, spread less between the 2nd and 98th percentiles, in log),
the corrected face's distribution there is mapped half way to the target's (a
monotone map between their quantiles): the map is the camera's response only
in part (the faces differ in what they are made of too). Monotone, so no
feature changes its order of brightness: the relief is flattened, never
redrawn. Each channel's mean over the inner face is kept: the tone is the
colour match's. On the benchmark's 186 pairs the worst light went 3.23 -> 2.42
for held-out d_src 0.400 -> 0.401; taken both ways (a steeper target's curve
too) held-out d_src read 0.409 (docs/benchmarks.md, "Engine quality").
"""

from __future__ import annotations

import cv2
import numpy as np

from .planes import channels_of, scaled_channels

# How far the face's brightness distribution moves to the target's (log gain share).
SHARE = 0.5
# The quantiles matched, over the inner face (the tails are a few pixels:
# pupils, a highlight).
QUANTILES = np.linspace(0.02, 0.98, 25)
# The gain's bound either way (log): a tone curve, not a relighting.
BOUND = 0.35
# Too few pixels to read a distribution from.
MIN_PIXELS = 64
# The grey levels are read smoothed at this share of the inter-ocular distance:
# the curve then follows shading and features, not the grid's pixel texture
# (read pixel by pixel, the gain put back detail that ``match_sharpness`` took
# out of a source sharper than the photo).
SMOOTH_IOD = 0.05
# The gain fades out over this many grid pixels at the inner face's edge.
FADE_PX = 2.0


def curve_gain(
    face: np.ndarray, target: np.ndarray, region: np.ndarray, smooth_px: float
) -> np.ndarray:
    """(h, w, 3) float32 gain giving ``face`` (the corrected source, float BGR,
    may exceed 255) ``SHARE`` of ``target``'s tone curve over ``region`` (0..1,
    the inner face), each channel's mean there kept. All three share one grid."""
    inside = region > 0.5
    if int(np.count_nonzero(inside)) < MIN_PIXELS:
        return np.ones((*region.shape, 3), np.float32)
    # The face as it will be saved: saturated at 255; grey levels, so the
    # quantiles come from histograms and the curve is a 256-entry table.
    # (Blurred as float, then rounded: OpenCV's 8-bit Gaussian is 4x slower here.)
    have, want = (
        cv2.convertScaleAbs(
            cv2.GaussianBlur(
                cv2.cvtColor(cv2.convertScaleAbs(im), cv2.COLOR_BGR2GRAY).astype(np.float32),
                (0, 0),
                smooth_px,
            )
        )
        for im in (face, target)
    )
    have_q, want_q = _quantiles(have, inside), _quantiles(want, inside)
    if _spread(want_q) >= _spread(have_q):
        return np.ones((*region.shape, 3), np.float32)  # only a flatter curve is taken
    table = _log_ratio_table(have_q, want_q) * SHARE
    change = np.clip(table.take(have), -BOUND, BOUND)
    fade = cv2.GaussianBlur(region.astype(np.float32), (0, 0), FADE_PX)
    gain = np.exp(change * fade)
    # The tone is the colour match's (local means): only the curve's shape is
    # taken here, so each channel's mean over the inner face is kept (brightening
    # the darker pixels would otherwise lower the mean L* and raise the chroma).
    # Flat indices and one matrix product: boolean indexing of a 3-channel image
    # and an elementwise product took 0.6 of this function's 1.4 ms.
    where = np.flatnonzero(inside)
    pixels = np.minimum(face.reshape(-1, 3).take(where, axis=0), 255)
    weighted = gain.reshape(-1).take(where) @ pixels
    # Sums as products too: numpy's sum down a (n, 3) array's rows costs ~10x.
    kept = (np.ones(len(where), np.float32) @ pixels) / np.maximum(weighted, 1e-3)
    return scaled_channels(channels_of(gain), kept.astype(np.float32))


def _spread(levels: np.ndarray) -> float:
    """Log contrast between the outer quantiles: how steep a photo's curve is."""
    return float(np.log((levels[-1] + 4.0) / (levels[0] + 4.0)))


def _quantiles(grey: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """QUANTILES of the uint8 ``grey`` levels where ``inside`` (bool), from a
    histogram (OpenCV's: a third of the cost of indexing and counting)."""
    hist = cv2.calcHist([grey], [0], inside.view(np.uint8), [256], [0, 256])
    counts = hist.ravel().astype(np.int64).cumsum()
    return np.searchsorted(counts, QUANTILES * counts[-1]).astype(np.float64)


def _log_ratio_table(have_q: np.ndarray, want_q: np.ndarray) -> np.ndarray:
    """log(mapped + 4) - log(level + 4) for each grey level 0..255, the map piecewise
    linear from the face's quantiles ``have_q`` to the target's ``want_q``; beyond
    the ends, the end's ratio (dark) or its offset (bright) carries on, so pupils
    and highlights keep their contrast."""
    levels = np.arange(256, dtype=np.float64)
    # Strictly increasing, or interp's segments are undefined (a flat histogram).
    have_q = np.maximum.accumulate(have_q + np.arange(len(have_q)) * 1e-3)
    mapped = np.interp(levels, have_q, want_q)
    low, high = levels < have_q[0], levels > have_q[-1]
    mapped[low] = levels[low] * (want_q[0] / max(have_q[0], 1.0))
    mapped[high] = levels[high] + (want_q[-1] - have_q[-1])
    return np.log((np.maximum(mapped, 0.0) + 4.0) / (levels + 4.0)).astype(np.float32)


# The target's relief (a third step, after the curve): a studio source's top and
# side light leaves hot spots on the nose, cheekbones and chin and deep shadows
# under the lip, which a flat group photo's faces do not have and the curve
# (one map for the whole face) only halves. A spot of skin's log grey over its
# neighbourhood (a Gaussian of RELIEF_IOD inter-ocular distances, over the
# skin) beyond the target skin's own brightest / darkest RELIEF_Q of them is
# brought back by these shares. Over the benchmark's pairs the worst relief
# went 8.3 -> 6.0 (held-out) for held-out d_src 0.396 -> 0.397; shares of
# 1.0 and 0.5 read 0.399, 1.0 and 0 0.398 (docs/benchmarks.md).
RELIEF_IOD = 0.5
RELIEF_FINE_IOD = 0.08
RELIEF_Q = 0.03
HIGHLIGHT_SHARE = 0.7
SHADOW_SHARE = 0.3


def _peaks(image: np.ndarray, weights: np.ndarray, sigma: float, fine: float) -> np.ndarray:
    """Log grey of ``image``, smoothed at ``fine`` (a spot, not the grid's texture:
    a gain read pixel by pixel would put back detail ``match_sharpness`` took out),
    over its local mean on ``weights`` (normalised convolution, on a grid shrunk so
    the Gaussian is ~4 cells: it is smooth)."""
    grey = cv2.cvtColor(image.astype(np.float32), cv2.COLOR_BGR2GRAY)
    grey = np.log(cv2.GaussianBlur(grey, (0, 0), fine) + 4.0)
    h, w = grey.shape
    scale = min(1.0, 4.0 / sigma)
    size = (max(2, round(w * scale)), max(2, round(h * scale)))
    both = cv2.resize(cv2.merge([grey * weights, weights]), size, interpolation=cv2.INTER_AREA)
    both = cv2.GaussianBlur(both, (0, 0), sigma * scale)
    both = cv2.resize(both, (w, h), interpolation=cv2.INTER_LINEAR)
    return grey - both[..., 0] / np.maximum(both[..., 1], 1e-3)


def _outer_quantiles(values: np.ndarray, q: float) -> np.ndarray:
    """np.quantile(values, (q, 1 - q)) (its linear method), the same float64
    numbers, from a partial sort: numpy's overhead was ~0.2 ms a face here."""
    count = len(values)
    virtual = (count - 1) * np.array([q, 1.0 - q])
    below = np.floor(virtual).astype(np.intp)
    above = np.minimum(below + 1, count - 1)
    part = np.partition(values, np.unique(np.concatenate((below, above))))
    low, high = part[below], part[above]
    gamma = virtual - below
    step = high - low  # in values' dtype, as numpy subtracts the neighbours
    return np.where(gamma >= 0.5, high - step * (1 - gamma), low + step * gamma)


def relief_gain(
    face: np.ndarray,
    target: np.ndarray,
    face_skin: np.ndarray,
    target_skin: np.ndarray,
    iod_px: float,
) -> np.ndarray:
    """(h, w) float32 gain bringing the hot spots and deep shadows of ``face``
    (float BGR, may exceed 255) on ``face_skin`` to the height and depth of the
    target's own on ``target_skin`` (0..1 weights: the inner face without the
    features; all on one grid)."""
    if min(np.count_nonzero(face_skin > 0.5), np.count_nonzero(target_skin > 0.5)) < MIN_PIXELS:
        return np.ones(face_skin.shape, np.float32)
    sigma, fine = max(RELIEF_IOD * iod_px, 1.0), max(RELIEF_FINE_IOD * iod_px, 0.5)
    have = _peaks(np.minimum(face, 255), face_skin, sigma, fine)
    want = _peaks(target, target_skin, sigma, fine)
    low, high = _outer_quantiles(want[target_skin > 0.5], RELIEF_Q)
    change = -HIGHLIGHT_SHARE * np.maximum(have - max(float(high), 0.0), 0.0)
    change -= SHADOW_SHARE * np.minimum(have - min(float(low), 0.0), 0.0)
    fade = cv2.GaussianBlur(face_skin, (0, 0), FADE_PX)
    return np.exp(change * fade).astype(np.float32, copy=False)
