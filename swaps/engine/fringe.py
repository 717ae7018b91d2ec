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
  the reference ``strands`` and the forehead band judge it on: a neck round
  the jaw, or the jaw's own shading, is skin), and
- a colour the source shows round its face (the warped crop outside the
  outline, lower face) ``OUTSIDE_RATIO`` times more often than inside it (the
  lower face further in, its features left out): a beard or stubble grows
  over the chin and cheeks as well, so its colour is the face's own and stays,
  while a wall, a screen or hair beside the jaw is seen outside only. A
  chinstrap beard, thin and on the jaw line only, reads as hair beside it.

Like ``strands``, only what reaches in from the outline's edge goes, and the
drop is blurred: where it goes the target's own jaw shows through the feather,
with no hole and no hard edge. The colour counts are histograms of the
source's 8-bit Y, Cr, Cb levels, coarsened and smoothed across neighbouring
bins, so any colour works (nothing is tuned to one background); the skin is
judged only on what the counts single out (few pixels, most often none).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from . import shape, skin, strands
from .regions import Analysis

# The outline's band judged: this far in from the hull's edge (inter-ocular
# distances), past the feather at the default likeness.
BAND_IOD = 0.15
# A colour is the background's when it is this many times more frequent
# outside the outline than inside the lower face (each as a share).
OUTSIDE_RATIO = 3.0
# Not skin: below this skin likelihood (as ``strands``).
NOT_SKIN = strands.NOT_SKIN
# Fewer samples than this, outside or inside: nothing is judged.
MIN_SAMPLES = 16
# Faces under this many grid pixels between the eyes are left alone: there
# the band is a pixel or two, a fringe barely shows, and the recogniser reads
# the outline (tune d_src 0.399 acting on every face, against 0.394 without).
MIN_IOD_PX = 32.0
# Colour bins: Y, Cr, Cb levels shifted right by these bits (8 x 16 x 16 bins).
BIN_SHIFTS = (5, 4, 4)
# What reaches in touches the outline's outer EDGE_PX grid pixels (as ``strands``').
EDGE_PX = (strands.EDGE - 1) / 2
# The drop's edge is blurred by this (grid pixels), as ``strands``'.
BLUR_SIGMA = strands.BLUR_SIGMA


def fringe_weight(grid: Analysis, outline: np.ndarray) -> np.ndarray:
    """Mask multiplier (h, w) float32 on the analysis ``grid``: 0 on the source's
    background and hair reaching in from the edge of ``outline`` (bool, the
    swapped region: the hull of ``grid.points[shape.OUTLINE]``) over the lower
    face's outer ``BAND_IOD``; 1 elsewhere."""
    weight = np.ones(outline.shape, np.float32)
    if grid.iods[0] < MIN_IOD_PX:
        return weight
    top, level = lower_levels(grid.points, outline.shape)
    if level is None:
        return weight
    below = slice(top, None), slice(None)  # the rows below the eyes' level
    hull = cv2.convexHull(np.round(grid.points[shape.OUTLINE]).astype(np.int32))
    hull -= np.int32([0, top])
    inside = outline[below]
    foreign = _foreign(grid, below, hull, inside, level < 1.0)
    if foreign is None:
        return weight
    weight[below] -= _drop(foreign, hull, inside, level)
    return weight


def _drop(
    foreign: np.ndarray, hull: np.ndarray, inside: np.ndarray, level: np.ndarray
) -> np.ndarray:
    """(h, w) float32 over ``inside`` (the ``hull``'s pixels below the eyes):
    how much of the blend weight goes, on the parts of ``foreign`` (uint8)
    reaching in from the hull's edge, grown and blurred; ``level``: the
    face's height (``lower_levels``)."""
    drop = np.zeros(inside.shape, np.float32)
    x, y, w, h = cv2.boundingRect(foreign)
    # Only round the candidates: the components, the growth and the blur reach
    # no further (the edge is drawn on the box as the hull's own edge).
    pad = 1 + 2 * round(4 * BLUR_SIGMA)
    box = slice(max(y - pad, 0), y + h + pad), slice(max(x - pad, 0), x + w + pad)
    edge = _near_edge(hull - np.int32([box[1].start, box[0].start]), inside[box], EDGE_PX)
    fringe = strands.reaching_out(foreign[box].view(bool), edge)
    # Grown by a pixel: the fringe's own edge mixes it with the skin (a half-hue
    # line would stay under the blur's half weight), only within the outline.
    grown = cv2.dilate(fringe.view(np.uint8), np.ones((3, 3), np.uint8)) & inside[box]
    blurred = cv2.GaussianBlur(grown.astype(np.float32), (0, 0), BLUR_SIGMA)
    # Full from halfway between the eyes and the nose's base down (above, ``strands``).
    ramp = np.clip(2.0 * (1.0 - level[box]), 0.0, 1.0)
    drop[box] = blurred * ramp * inside[box]
    return drop


def lower_levels(points: np.ndarray, shape_hw: tuple[int, ...]) -> tuple[int, np.ndarray | None]:
    """The first row of (h, w) with any pixel below the eyes' level of the 68
    ``points``' face, and (rows from it, w) float32: each pixel's height above
    the nose's base (point 33) along the face's up (mouth to brows), the eyes'
    at 1 (``strands.upper_face``, unclipped); None when no pixel is below."""
    # The brows', eyes' and mouth's sums in one call; then Python floats, so
    # the float32 planes below stay float32 (NumPy scalars would promote them).
    brows, _, eyes, mouth = np.add.reduceat(points[17:68], [0, 10, 19, 31]).tolist()
    (bx, by), (ex, ey), (mx, my) = brows, eyes, mouth
    (x0, y0) = points[33].tolist()
    ux, uy = bx / 10 - mx / 20, by / 10 - my / 20
    norm = max(math.hypot(ux, uy), 1e-6)
    ux, uy = ux / norm, uy / norm
    reach = (ex / 12 - x0) * ux + (ey / 12 - y0) * uy
    if reach < 1e-6:
        return 0, None
    xs = (np.arange(shape_hw[1], dtype=np.float32) - x0) * (ux / reach)
    ys = (np.arange(shape_hw[0], dtype=np.float32) - y0) * (uy / reach)
    rows = np.flatnonzero(ys + float(xs.min()) < 1.0)
    if not len(rows):
        return 0, None
    return int(rows[0]), xs[None, :] + ys[rows[0] :, None]


def _foreign(
    grid: Analysis,
    below: tuple[slice, slice],
    hull: np.ndarray,
    inside: np.ndarray,
    lower: np.ndarray,
) -> np.ndarray | None:
    """uint8 0/1 over ``grid.source[below]``: the outline's band (``BAND_IOD``
    in from the ``hull``'s edge, of ``inside``, over the ``lower`` face) where
    the source is neither its skin nor a colour of its lower face; None when
    none is (or too little is seen outside or inside to judge)."""
    band = _near_edge(hull, inside, BAND_IOD * grid.iods[0]) & lower
    outside = lower & ~inside
    interior = lower & inside & ~band & (grid.features[0][below] == 0)
    source = np.ascontiguousarray(grid.source[below])
    colours = colour_bins(source)
    # Round and inside the face, every other row and column: still thousands
    # of pixels, at a quarter of the cost.
    sampled = slice(None, None, 2), slice(None, None, 2)
    outside, interior = (np.ascontiguousarray(m[sampled]) for m in (outside, interior))
    if min(np.count_nonzero(outside), np.count_nonzero(interior)) < MIN_SAMPLES:
        return None
    background = background_bins(np.ascontiguousarray(colours[sampled]), outside, interior)
    judged = np.flatnonzero(band)
    judged = judged[background.take(colours.ravel().take(judged))]
    if len(judged):  # and of those, what is not skin
        judged = judged[_not_skin(grid, source.reshape(-1, 3).take(judged, 0))]
    if not len(judged):
        return None
    foreign = np.zeros(inside.shape, np.uint8)
    np.put(foreign, judged, 1)
    return foreign


def _near_edge(hull: np.ndarray, inside: np.ndarray, reach: float) -> np.ndarray:
    """bool over ``inside`` (the ``hull``'s pixels): those within ``reach``
    pixels of its edge (a line 2 reach + 1 wide along it: the edge grown by a
    disc, at a distance transform's fifth of the cost; the hull's edge where it
    runs along the crop's border counts)."""
    line = np.zeros(inside.shape, np.uint8)
    cv2.polylines(line, [hull], True, 1, 2 * max(1, round(reach)) + 1)
    return line.view(bool) & inside


def colour_bins(image: np.ndarray) -> np.ndarray:
    """(h, w) uint16: each BGR pixel's bin of Y, Cr, Cb coarsened by ``BIN_SHIFTS``."""
    y, cr, cb = cv2.split(cv2.cvtColor(image, cv2.COLOR_BGR2YCrCb))
    sizes = [256 >> shift for shift in BIN_SHIFTS]
    bins = (y >> BIN_SHIFTS[0]).astype(np.uint16) * (sizes[1] * sizes[2])
    bins += (cr >> BIN_SHIFTS[1]).astype(np.uint16) * sizes[2]
    bins += cb >> BIN_SHIFTS[2]
    return bins


def background_bins(colours: np.ndarray, outside: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """bool per colour bin (``colour_bins``): ``OUTSIDE_RATIO`` times more
    frequent among the ``outside`` pixels than the ``inside`` ones (bool over
    ``colours``), each bin's share smoothed over its neighbours in each of Y,
    Cr and Cb (weights 1/2, 1, 1/2: a colour on a bin's border counts on both
    sides; the test is linear, so one difference is smoothed, not each count)."""
    sizes = tuple(256 >> shift for shift in BIN_SHIFTS)
    bins = sizes[0] * sizes[1] * sizes[2]
    far, near = (colours[where] for where in (outside, inside))
    excess = np.bincount(far, minlength=bins) * (1.0 / len(far))
    excess -= np.bincount(near, minlength=bins) * (OUTSIDE_RATIO / len(near))
    padded = np.zeros([n + 2 for n in sizes], np.float32)
    padded[1:-1, 1:-1, 1:-1] = excess.reshape(sizes)
    spread = padded[:, :, 1:-1] + 0.5 * (padded[:, :, :-2] + padded[:, :, 2:])
    spread = spread[:, 1:-1] + 0.5 * (spread[:, :-2] + spread[:, 2:])
    spread = spread[1:-1] + 0.5 * (spread[:-2] + spread[2:])
    return spread.ravel() > 0.0


def _not_skin(grid: Analysis, pixels: np.ndarray) -> np.ndarray:
    """bool per BGR pixel of ``pixels`` (n, 3): unlike the warped source's skin
    on its cheeks and nose (``skin.skin_likelihood``, on the reference
    ``strands`` reads, so its statistics are computed once a face)."""
    reference = np.zeros(grid.source.shape[:2], np.uint8)
    cv2.fillPoly(reference, [np.round(grid.points[skin.REFERENCE]).astype(np.int32)], 1)
    # Flat indices of a bool view: 5x faster than of the uint8 mask.
    own = grid.source.reshape(-1, 3).take(np.flatnonzero(reference.view(bool)), 0)
    return skin.skin_likelihood(pixels, own) < NOT_SKIN
