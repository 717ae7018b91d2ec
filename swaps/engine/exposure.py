"""The target photo's tone curve on the swapped face: half of a quantile match.

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
    have, want = (
        cv2.GaussianBlur(
            cv2.cvtColor(cv2.convertScaleAbs(im), cv2.COLOR_BGR2GRAY), (0, 0), smooth_px
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
    pixels = np.minimum(face[inside], 255)
    kept = pixels.sum(axis=0) / np.maximum((pixels * gain[inside][:, None]).sum(axis=0), 1e-3)
    return (gain[..., None] * kept.astype(np.float32)).astype(np.float32)


def _spread(levels: np.ndarray) -> float:
    """Log contrast between the outer quantiles: how steep a photo's curve is."""
    return float(np.log((levels[-1] + 4.0) / (levels[0] + 4.0)))


def _quantiles(grey: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """QUANTILES of the uint8 ``grey`` levels where ``inside``, from a histogram."""
    counts = np.bincount(grey[inside], minlength=256).cumsum()
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
