"""Things held in front of the target's face stay on the new face.

A swap pastes the source's face over everything inside the mask, so a
microphone, a phone, a cup, a scarf or a gloved hand across the target's cheek
vanishes under the new face. Here such an object is found on the target (on
the analysis grid); the blend weight drops over it (the target's pixels stay,
feathered) and the colour match leaves it out, as for glasses (occluders.py).

What is found: a region of a colour no skin or hair has (bluish, greenish or
a deep red) and far from this face's skin, that enters from outside the face
(it is joined to pixels outside the hull of the 68 points), covers MIN_AREA of
the cheeks, nose, mouth and chin at least DEPTH inside that hull, and whose
edge against the skin is a step, not a fall-off. Colour is chromaticity (r, g
= R, G over R + G + B), which shading does not change, so a side shadow is
still skin. The skin is read on four patches (both cheeks, the nose, between
the brows), robustly: the median of the medians of the patches of a skin's
colour (LOCUS: an object over a cheek and the nose does not become the skin),
then the median and spread of the reference pixels near it; and if most of
the zone reads as not skin, the skin was misread and nothing is found. Beards,
moustaches and hair of any hair colour (grey to orange) are never candidates:
they cross the outline too, and a patch of the target left on the new face is
far worse than a missed object. The eyes, brows, lips and nostrils (grown) are
never candidates either; under a found object those of its colour join it.

The figures that set the thresholds (benchmarks/occluder_detection.py: the
engine benchmark's 62 faces, each in 8 sizes and JPEG qualities, on their
analysis grids; beards, stubble, glasses, make-up, teeth, closed eyes and a
half-face shadow among them; bars and strokes 0.4-0.5 eye distances wide drawn
across a cheek, a microphone's head over the mouth; each bare face also under
a blue, green or magenta light over one half):

- area: on the bare faces, candidates cover at most 0.027 iod^2 of the zone
  (Grace Hopper's tinted lenses), none of it joined to the outside; the bars
  and strokes 0.19-0.22 at the 10th percentile, the microphones 0.07-0.08
  (median 0.12-0.13; at 0.08 a quarter of them were missed): MIN_AREA 0.06;
- edge (``sharpness``): the objects 0.28-0.35 at the 10th percentile (lowest
  0.20); the coloured lights, whose colour changes over 0.2 or 0.6 eye
  distances and whose regions enter and cover up to 0.78 iod^2, at most 0.09
  from 30 grid pixels between the eyes (0.28-0.32 at 20-30 px in a first
  version, where the fall-off is a step of a pixel or two): SHARP 0.2,
  MIN_IOD 30.

Found: 94-100% of the red, blue and green bars and strokes, 89-94% of the
microphones; none of the 281 bare faces judged, with or without the coloured
lights (215 under MIN_IOD). Not found, by design: dark, grey, white, brown or
orange objects (black on skin is a level, not a colour: a hard cast shadow
has the same step and as sharp an edge; the others are hair's colours), and
anything skin-coloured (docs/benchmarks.md: what was tried; hands have their
own step, hands.py). When
nothing is found neither the mask nor the colour match is touched: the swap is
bit for bit what it was without this step.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from . import mask

# Under this many grid pixels between the eyes (a face under ~75 px across in
# the photo) a coloured light's fall-off is a step of a pixel or two, as sharp
# as an object's edge (``sharpness``).
MIN_IOD = 30.0
# The skin's reference patches (68-point polygons): both cheeks below the eyes,
# the nose and between the brows.
PATCHES = (
    np.array([1, 41, 40, 39, 31, 2]),
    np.array([15, 46, 47, 42, 35, 14]),
    np.array([27, 39, 31, 33, 35, 42]),
    np.array([17, 21, 22, 26, 27]),
)
# Where objects are judged: the cheeks and nose from the eyes down to the
# nostrils, at least DEPTH eye distances inside the 68 points' hull (the
# outline's points sit on the boundary between face and hair or background).
ZONE = np.array([1, 36, 39, 27, 42, 45, 15, 14, 35, 33, 31, 2])
DEPTH = 0.25
# And below the nostrils (the mouth, chin and jaw: LOWER). Beards, moustaches
# and hair, of every hair colour, reach into both: only a colour no skin or
# hair has is an object's (``_unusual``), by this margin in chromaticity (the
# tests' grey beard in blue shade is bluer than green by 0.02), or a green
# share under DEEP_RED (skin's: 0.28-0.34).
LOWER = np.r_[2:15, 35, 33, 31]
UNUSUAL, DEEP_RED = 0.08, 0.2
# A skin's chromaticity (g, r): the patches' medians on the benchmark's 496
# faces lie in g 0.28-0.34, r 0.36-0.51; a patch outside this (wider) box is
# covered (a grey photo, or a light so coloured that nothing is judged).
LOCUS = (np.array([[0.24], [0.33]]), np.array([[0.38], [0.62]]))
# The reference pixels: within NEAR of the patches' median chromaticity; the
# spread's floor (a flat-lit face's chroma spread is ~0.01-0.02).
NEAR, SPREAD_FLOOR = 0.06, 0.01
# A pixel is not skin when its chroma lies FAR spreads from the skin's; not
# judged under LEVEL_FLOOR of the skin's level (noise rules the chroma there).
FAR, LEVEL_FLOOR = 6.0, 0.15
# An object covers at least this much of the zone (in iod^2), and objects at
# most this share of it.
MIN_AREA, MAX_SHARE = 0.06, 0.8
# And its edge is a colour step, not a coloured light's fall-off (``sharpness``).
SHARP = 0.2
# Candidates are opened by a disc this wide (eye distances).
OPEN_IOD = 0.04
# The eyes, brows, lips and nostrils under an object: their pixels within this
# distance (BGR levels, or share of the object's level) of the object's median.
SIMILAR, SIMILAR_SHARE = 30.0, 0.25
# The mask: the objects grown over their blended edge and softened.
GROW_IOD, EDGE_SIGMA = 0.03, 1.0


def occluder_mask(
    target: np.ndarray, points: np.ndarray, iod: float, features: np.ndarray | None = None
) -> np.ndarray | None:
    """(h, w) float32 0..1 on ``target``'s grid: what is in front of the face,
    or None when nothing is. ``target``: BGR uint8, ``points``: its own 68
    landmarks on that grid, ``iod`` pixels between the eyes; ``features``: bool,
    its ``mask.feature_mask`` if the caller has it."""
    if iod < MIN_IOD:
        return None
    shape_hw = target.shape[:2]
    if features is None:
        features = mask.feature_mask(points, shape_hw, iod) > 0
    pixels = target.reshape(-1, 3)
    hull = _polygon(shape_hw, cv2.convexHull(np.round(points).astype(np.int32))[:, 0])
    zone = (_polygon(shape_hw, points[ZONE]) | _polygon(shape_hw, points[LOWER])) & ~features
    zone &= _deep(hull, iod)
    area = MIN_AREA * iod * iod
    # Judged on the zone's pixels first: most faces stop here, before the skin
    # is read, as an object's pixels are all of an unusual colour.
    judged = pixels.take(np.flatnonzero(zone), 0)
    if np.count_nonzero(_unusual(_chromaticity(judged)[0])) < area:
        return None
    skin = _skin(pixels, points, features)
    if skin is None or np.count_nonzero(_not_skin(judged, skin)) < area:
        return None
    distance, possible = (v.reshape(shape_hw) for v in _distance(pixels, skin))
    candidate = (distance > FAR) & possible & ~features
    around = hull & ~features & ~candidate  # the skin an object's edge is seen against
    candidate = _entering(candidate, hull, iod)
    count, labels = cv2.connectedComponents(candidate.astype(np.uint8), connectivity=8)
    inside = np.bincount(labels[candidate & zone], minlength=count)
    chosen = [
        i
        for i in range(1, count)
        if inside[i] >= area and sharpness(labels == i, zone, around, distance) >= SHARP
    ]
    # Most of the zone not skin: the skin was misread (or the face is hidden).
    if not chosen or inside[chosen].sum() > MAX_SHARE * np.count_nonzero(zone):
        return None
    return _soft(_over_features(np.isin(labels, chosen), target, features | candidate), iod)


def sharpness(
    region: np.ndarray, zone: np.ndarray, around: np.ndarray, distance: np.ndarray
) -> float:
    """How abruptly the colour changes at the edge of ``region`` where it meets
    the skin (``around``): the 25th percentile of the chroma distance's gradient
    there over the region's median distance in the ``zone``. An object's edge
    is a step (~0.45: the gradient reads half a step a pixel), a coloured light
    falls off over the face's curve (a ramp over n pixels: 1 / n)."""
    square = np.ones((3, 3), np.uint8)
    edge = region & ~cv2.erode(region.astype(np.uint8), square).astype(bool)
    edge &= cv2.dilate(around.astype(np.uint8), square).astype(bool)
    if not edge.any():
        return 0.0
    smooth = cv2.GaussianBlur(distance, (0, 0), 0.7)
    dx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0) / 8
    dy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1) / 8
    gradient = cv2.dilate(np.hypot(dx, dy), square)
    step = float(np.median(distance[region & zone]))
    return float(np.percentile(gradient[edge], 25)) / max(step, FAR)


def _soft(found: np.ndarray, iod: float) -> np.ndarray:
    """The mask of the ``found`` pixels: grown over the objects' blended edge,
    softened, and 1 inside them."""
    grow = 2 * max(1, round(GROW_IOD * iod)) + 1
    grown = cv2.dilate(found.astype(np.uint8), np.ones((grow, grow), np.uint8))
    return np.minimum(cv2.GaussianBlur(grown.astype(np.float32), (0, 0), EDGE_SIGMA) * 1.5, 1.0)


def _entering(candidate: np.ndarray, hull: np.ndarray, iod: float) -> np.ndarray:
    """The ``candidate`` regions joined to pixels outside the ``hull``, opened:
    the opening drops lines (wrinkles, strands of hair, a frame) that would
    join an object to the eyes or the nose's shadows. Which regions enter is
    judged before it (outside the hull the crop has a sliver a pixel or two wide)."""
    count, labels = cv2.connectedComponents(candidate.astype(np.uint8), connectivity=8)
    entering = np.isin(labels, np.unique(labels[candidate & ~hull])) & candidate
    width = 2 * max(1, round(OPEN_IOD * iod)) + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width, width))
    return cv2.morphologyEx(entering.astype(np.uint8), cv2.MORPH_OPEN, kernel) > 0


def _over_features(found: np.ndarray, image: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """``found`` and the ``allowed`` pixels (the features and the candidates)
    joined to it that have its colour: an object across the mouth hides the
    lips, which were never candidates, and goes on beyond them."""
    pixels = image.astype(np.float32)
    colour = np.median(pixels[found], axis=0)
    near = np.linalg.norm(pixels - colour, axis=2) < max(
        SIMILAR, SIMILAR_SHARE * np.linalg.norm(colour)
    )
    joined = (found | (allowed & near)).astype(np.uint8)
    count, labels = cv2.connectedComponents(joined, connectivity=8)
    return np.isin(labels, np.unique(labels[found]))


def _chromaticity(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(2, n) float32 g, r shares of each BGR pixel's sum, and (n,) its grey
    level (OpenCV's weights), of (n, 3) uint8 ``pixels``. Plane by plane: numpy
    reduces a 3-wide axis ~10x slower."""
    b, g, r = (pixels[:, k].astype(np.float32) for k in range(3))
    total = b + g + r + 1.0
    grey = 0.114 * b + 0.587 * g + 0.299 * r
    return np.stack((g / total, r / total)), grey


class _Skin(NamedTuple):
    median: np.ndarray  # (2, 1): g, r
    spread: np.ndarray  # (2, 1): 1.4826 MAD each, floored
    level: float  # the median grey level


def _skin(pixels: np.ndarray, points: np.ndarray, features: np.ndarray) -> _Skin | None:
    """The skin's colour from the PATCHES of (n, 3) ``pixels`` (the grid's,
    flattened), those whose median is a skin's (LOCUS: an object over one is
    not); None when fewer than two are in the image and the locus."""
    patches = [np.flatnonzero(_polygon(features.shape, points[p]) & ~features) for p in PATCHES]
    # Every other pixel: the same medians to ~0.001, at half the cost.
    patches = [p[::2] for p in patches if len(p) > 8]
    if len(patches) < 2:
        return None
    chroma, grey = _chromaticity(pixels.take(np.concatenate(patches), 0))
    bounds = np.cumsum([0] + [len(p) for p in patches])
    medians = [_medians(chroma[:, a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    medians = [m for m in medians if np.all((m >= LOCUS[0]) & (m <= LOCUS[1]))]
    if len(medians) < 2:
        return None
    off = np.abs(chroma - _medians(np.hstack(medians)))
    near = (off[0] < NEAR) & (off[1] < NEAR)
    if np.count_nonzero(near) < 16:
        return None
    values = chroma[:, near]
    median = _medians(values)
    spread = np.maximum(1.4826 * _medians(np.abs(values - median)), SPREAD_FLOOR)
    return _Skin(median, spread, max(float(_medians(grey[None, near])[0, 0]), 1.0))


def _medians(values: np.ndarray) -> np.ndarray:
    """Each row's median, (k, 1), as np.median gives it, by a partial sort:
    np.median's overhead is ~10x the work on a few thousand values."""
    n = values.shape[1]
    half = [(n - 1) // 2, n // 2]
    part = np.partition(values, half, axis=1)
    return (part[:, half[0] : half[0] + 1] + part[:, half[1] : half[1] + 1]) * 0.5


def _unusual(chroma: np.ndarray) -> np.ndarray:
    """bool (n,): (2, n) g, r ``chroma`` of no skin's nor hair's colour (those
    run from grey to orange: blue <= green <= red), by UNUSUAL: bluish,
    greenish or a deep red."""
    g, r = chroma
    b = 1.0 - g - r
    return (b > g + UNUSUAL) | (g > r + UNUSUAL) | (g < DEEP_RED)


def _not_skin(pixels: np.ndarray, skin: _Skin) -> np.ndarray:
    """bool (n,): (n, 3) ``pixels`` whose chroma lies FAR spreads from the
    skin's, at LEVEL_FLOOR of its level or brighter, of no hair's colour."""
    distance, candidate = _distance(pixels, skin)
    return (distance > FAR) & candidate


def _distance(pixels: np.ndarray, skin: _Skin) -> tuple[np.ndarray, np.ndarray]:
    """(n,) float32: each of (n, 3) ``pixels``' chroma distance from the skin's,
    in spreads (RMS of the two); and whether it may be an object's at all: at
    LEVEL_FLOOR of the skin's level or brighter (below, noise rules the
    chroma), of a colour no skin or hair has (``_unusual``)."""
    chroma, grey = _chromaticity(pixels)
    g, r = (chroma - skin.median) / skin.spread
    possible = (grey > LEVEL_FLOOR * skin.level) & _unusual(chroma)
    return np.sqrt((g * g + r * r) * 0.5), possible


def _deep(hull: np.ndarray, iod: float) -> np.ndarray:
    """bool: at least DEPTH eye distances inside ``hull``."""
    return cv2.distanceTransform(hull.astype(np.uint8), cv2.DIST_L2, 3) >= DEPTH * iod


def _polygon(shape_hw: tuple[int, ...], points: np.ndarray) -> np.ndarray:
    out = np.zeros(shape_hw[:2], np.uint8)
    cv2.fillPoly(out, [np.round(points).astype(np.int32)], 1)
    return out > 0
