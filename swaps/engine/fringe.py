"""The source's background and hair at the outline's edge on the lower face are left out.

The 68 points' jaw line sits on the face's visible edge only roughly: where
it runs a little outside the source's cheek or jaw, the warped source carries
a sliver of what is behind the face (a coloured wall, a green screen, hair
falling past the jaw) into the blend mask's feathered edge, and it shows as a
thin coloured line along the target's jaw. ``strands`` drops hair reaching in
over the upper face but nothing below the nose, where a beard or stubble is the
source's own; here, along the lower outline's last ``BAND_IOD`` (where the
feather is), the weight drops on what is plainly neither:

- not the source's skin (``skin.skin_likelihood`` against its cheeks and nose,
  the reference ``strands`` and the forehead band judge it on), and
- a colour the source shows round its face (the warped crop outside the
  outline, lower face) ``OUTSIDE_RATIO`` times more often than inside it (the
  lower face further in, its features left out): a beard or stubble grows
  over the chin and cheeks as well, so its colour is the face's own and stays,
  while a wall, a screen or hair beside the jaw is seen outside only.

Like ``strands``, only what reaches in from the outline's edge goes, and the
drop is blurred: where it goes the target's own jaw shows through the feather,
with no hole and no hard edge. Both colour counts are histograms of the
source's 8-bit Y, Cr, Cb levels, coarsened and smoothed across neighbouring
bins, so any colour works (nothing is tuned to one background).
"""

from __future__ import annotations

import cv2
import numpy as np

from . import skin, strands
from .regions import Analysis

# The outline's band judged: this far in from the hull's edge (inter-ocular
# distances), past the feather at the default likeness.
BAND_IOD = 0.15
# Not skin: below this skin likelihood (as ``strands``).
NOT_SKIN = strands.NOT_SKIN
# A colour is the background's when it is this many times more frequent
# outside the outline than inside the lower face (each as a share).
OUTSIDE_RATIO = 3.0
# Fewer samples than this, outside or inside: nothing is judged.
MIN_SAMPLES = 16
# Colour bins: Y, Cr, Cb levels shifted right by these bits (8 x 16 x 16 bins).
BIN_SHIFTS = (5, 4, 4)
# What reaches in touches the outline's outer EDGE_PX grid pixels (as ``strands``').
EDGE_PX = (strands.EDGE - 1) / 2
# The drop's edge is blurred by this (grid pixels), as ``strands``'.
BLUR_SIGMA = strands.BLUR_SIGMA


def fringe_weight(grid: Analysis, outline: np.ndarray) -> np.ndarray:
    """Mask multiplier (h, w) float32 on the analysis ``grid``: 0 on the source's
    background and hair reaching in from the edge of ``outline`` (bool, the
    swapped region) over the lower face's outer ``BAND_IOD``; 1 elsewhere."""
    shape_hw = outline.shape
    weight = np.ones(shape_hw, np.float32)
    lower = lower_face(grid.points, shape_hw)
    inside = inside_distance(outline)
    reach = BAND_IOD * grid.iods[0]
    below = lower > 0
    outside = below & ~outline
    interior = below & (inside > reach) & (grid.features[0] == 0)
    if min(np.count_nonzero(outside), np.count_nonzero(interior)) < MIN_SAMPLES:
        return weight
    band = below & (inside > 0) & (inside <= reach)
    colours = colour_bins(grid.source)
    foreign = band & seen_outside(colours, outside, interior)
    if not foreign.any():
        return weight
    foreign &= _not_skin(grid, foreign)
    fringe = strands.reaching_out(foreign, (inside > 0) & (inside <= EDGE_PX))
    # Grown by a pixel: the fringe's own edge mixes it with the skin (a half-hue
    # line would stay under the blur's half weight), only within the outline.
    fringe = cv2.dilate(fringe.astype(np.uint8), np.ones((3, 3), np.uint8)) & outline
    drop = cv2.GaussianBlur(fringe.astype(np.float32), (0, 0), BLUR_SIGMA)
    weight -= drop * lower * outline
    return weight


def inside_distance(outline: np.ndarray) -> np.ndarray:
    """(h, w) float32: grid pixels from each pixel of ``outline`` (bool) to its
    edge, 0 outside. The crop's border counts as outside: the crop is the hull's
    box, so the hull runs along it (a distance transform alone would see no
    edge there)."""
    framed = cv2.copyMakeBorder(outline.astype(np.uint8), 1, 1, 1, 1, cv2.BORDER_CONSTANT)
    return cv2.distanceTransform(framed, cv2.DIST_L2, cv2.DIST_MASK_3)[1:-1, 1:-1]


def lower_face(points: np.ndarray, shape_hw: tuple[int, ...]) -> np.ndarray:
    """(h, w) float32 of the 68 ``points``' face: 0 at the eyes' level and above,
    1 from halfway down to the nose's base (where ``strands`` drops half)."""
    return np.clip(2.0 * (1.0 - strands.upper_face(points, shape_hw)), 0.0, 1.0)


def colour_bins(image: np.ndarray) -> np.ndarray:
    """(h, w) intp: each BGR pixel's bin of Y, Cr, Cb coarsened by ``BIN_SHIFTS``."""
    ycc = cv2.cvtColor(image, cv2.COLOR_BGR2YCrCb)
    y, cr, cb = (ycc[..., k] >> shift for k, shift in enumerate(BIN_SHIFTS))
    sizes = [256 >> shift for shift in BIN_SHIFTS]
    return (y.astype(np.intp) * sizes[1] + cr) * sizes[2] + cb


def seen_outside(colours: np.ndarray, outside: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """bool (h, w): pixels whose colour bin (``colour_bins``) is ``OUTSIDE_RATIO``
    times more frequent among the ``outside`` pixels than the ``inside`` ones."""
    far, near = (_density(colours[where]) for where in (outside, inside))
    return (far > OUTSIDE_RATIO * near).ravel().take(colours)


def _density(colours: np.ndarray) -> np.ndarray:
    """The share of ``colours`` (bins) in each bin, smoothed over its neighbours
    in each of Y, Cr and Cb (weights 1/2, 1, 1/2): a colour on a bin's border
    counts on both sides."""
    sizes = tuple(256 >> shift for shift in BIN_SHIFTS)
    hist = np.bincount(colours, minlength=int(np.prod(sizes))).astype(np.float32)
    hist = hist.reshape(sizes) / max(len(colours), 1)
    for axis in range(3):
        padded = np.pad(hist, [(1, 1) if a == axis else (0, 0) for a in range(3)])
        ahead, behind = (np.take(padded, range(k, k + sizes[axis]), axis) for k in (0, 2))
        hist = hist + 0.5 * (ahead + behind)
    return hist


def _not_skin(grid: Analysis, where: np.ndarray) -> np.ndarray:
    """bool (h, w): pixels of ``where`` unlike the warped source's skin on its
    cheeks and nose (the reference ``strands`` reads, so its statistics are
    computed once a face)."""
    reference = np.zeros(where.shape, np.uint8)
    cv2.fillPoly(reference, [np.round(grid.points[skin.REFERENCE]).astype(np.int32)], 1)
    pixels = grid.source.reshape(-1, 3)
    own = pixels.take(np.flatnonzero(reference), 0)
    judged = np.flatnonzero(where)
    out = np.zeros(where.shape, bool)
    np.put(out, judged, skin.skin_likelihood(pixels.take(judged, 0), own) < NOT_SKIN)
    return out
