"""The source's hair (and earrings, a hand) inside the face outline is left out.

A lock of the source's hair across its temple, warped with the face, lands on
the target's temple: a strand pasted on a face that has none there. In the
band above the brows ``skin.band_weight`` keeps only skin in both images; here,
over the whole upper face (full at the eyes' level and above, fading out by the
nose's base), the blend weight drops on the hair of either face *that reaches
in from the outline's edge*: hair, earrings and hands come from outside the
face, while dark things cut off inside it (makeup, a mole, a scar, the shadow
of an eye socket) are the face's own and stay. Hair is what is not skin
(against the face's own cheeks and nose, ``skin``), a thin dark line (a strand:
darker than what is round it; a shadow is wide and smooth), and on the source
only, anything darker than its cheeks' darkest (a lock is translucent at the
grid's scale, so colour alone misses it; a target's temple in shadow is not
dropped: the light steps match the source's face to it). A lock's loose
fibres are too fine for the grid, so a fringe round the source's hair goes too.

Never dropped, so the swap keeps its identity and never opens a hole in the
middle of a face: the nose and the inner eye corners, both faces' eyes (grown)
and brows (the target's too: uncovered, a second brow would show), the
source's glasses, and everything below the nose's base, where a beard or a
moustache is the source's identity (a strand falling down the cheek stays: told
from a beard's side it is not, at the grid's scale).
"""

from __future__ import annotations

import cv2
import numpy as np

from . import skin
from .regions import Analysis

# Never dropped: the nose and the inner eye corners' hull, the eyes grown by
# EYE_GROW and the brows, lines BROW_WIDTH wide (inter-ocular distances):
# thinner than the blend's feature mask, whose brows reach the temples.
CORE = np.r_[27:36, 39, 42]
EYES = (np.arange(36, 42), np.arange(42, 48))
BROWS = (np.arange(17, 22), np.arange(22, 27))
EYE_GROW = 0.15
BROW_WIDTH = 0.2
# Not skin: below this skin likelihood (``skin.skin_likelihood``).
NOT_SKIN = 0.5
# A strand: darker than the brightest round it (within LINE_IOD inter-ocular
# distances) by DARK_LINE of the skin's median grey level.
LINE_IOD = 0.08
DARK_LINE = 0.2
# On the source, hair too: darker than this share of its cheeks' 5th percentile
# (held-out: a worst hair of 2.6% either way, and above the brows of the shared
# pair's strand visibly less, for a d_src of 0.398 against 0.396).
SOURCE_DARKER = 0.85
# How far round the source's hair its loose fibres go too (inter-ocular distances).
FRINGE_IOD = 0.12
# Hair reaches in when it touches the outline's outer (EDGE - 1) / 2 grid
# pixels; the drop's edge is blurred by BLUR_SIGMA grid pixels (no hard cut).
EDGE = 5
BLUR_SIGMA = 1.0


def strand_weight(
    grid: Analysis, outline: np.ndarray, kept: np.ndarray | None = None
) -> np.ndarray:
    """Mask multiplier (h, w) float32 on the analysis ``grid``: 0 on the hair of
    either face that reaches in from the edge of the ``outline`` (bool, the
    swapped region) over the upper face, and on the fringe round the
    source's; 1 elsewhere. ``kept``: bool, also never dropped (the source's glasses)."""
    shape_hw = outline.shape
    zone = upper_face(grid.points, shape_hw)
    allowed = (zone > 0) & ~kept_features(grid.points, shape_hw, grid.iods[0])
    allowed &= ~kept_features(grid.own, shape_hw, grid.iods[1])
    if kept is not None:
        allowed &= ~kept
    weight = np.ones(shape_hw, np.float32)
    box = _box(allowed, max(grid.iods))
    if box is None:
        return weight
    edge = outline_edge(outline)[box]
    allowed = allowed[box]
    src = _hair(grid.source, grid.points, grid.iods[0], box, allowed, SOURCE_DARKER)
    hair = reaching_out(src, edge)
    # Its fringe: a distance transform grows it by a disc at a dilation's tenth of the cost.
    away = cv2.distanceTransform((~hair).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_3)
    hair |= (away <= max(1.0, FRINGE_IOD * grid.iods[0])) & allowed
    hair |= reaching_out(_hair(grid.target, grid.own, grid.iods[1], box, allowed), edge)
    drop = cv2.GaussianBlur(hair.astype(np.float32), (0, 0), BLUR_SIGMA)
    weight[box] -= drop * zone[box] * outline[box]
    return weight


def outline_edge(outline: np.ndarray) -> np.ndarray:
    """bool: what lies outside ``outline`` (bool) or in its outer (EDGE - 1) / 2
    pixels, where hair reaching in comes from. Outside the grid counts as
    outside the outline: where the outline runs along the crop's border (its
    extremes lie there), that is its edge too."""
    kernel = np.ones((EDGE, EDGE), np.uint8)
    inner = cv2.erode(
        outline.astype(np.uint8), kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0
    )
    return inner == 0


def _box(allowed: np.ndarray, iod: float) -> tuple[slice, slice] | None:
    """The rows and columns round ``allowed`` (bool), with room for the line
    filter and the blur; None when it is empty."""
    rows, cols = np.flatnonzero(allowed.any(axis=1)), np.flatnonzero(allowed.any(axis=0))
    if not len(rows):
        return None
    pad = max(1, round(LINE_IOD * iod)) + 2 * round(4 * BLUR_SIGMA)
    h, w = allowed.shape
    return (
        slice(max(rows[0] - pad, 0), min(rows[-1] + pad + 1, h)),
        slice(max(cols[0] - pad, 0), min(cols[-1] + pad + 1, w)),
    )


def upper_face(points: np.ndarray, shape_hw: tuple[int, ...]) -> np.ndarray:
    """(h, w) float32 of the 68 ``points``' face: 1 at the eyes' level and above,
    falling linearly to 0 at the nose's base (point 33), along the face's up
    (mouth to brows)."""
    eyes, base = points[36:48].mean(axis=0), points[33]
    up = points[17:27].mean(axis=0) - points[48:68].mean(axis=0)
    up = up / max(float(np.linalg.norm(up)), 1e-6)
    reach = float(np.dot(eyes - base, up))
    if reach < 1e-6:
        return np.ones(shape_hw[:2], np.float32)
    xs = ((np.arange(shape_hw[1], dtype=np.float32) - base[0]) * (up[0] / reach))[None, :]
    ys = ((np.arange(shape_hw[0], dtype=np.float32) - base[1]) * (up[1] / reach))[:, None]
    return np.clip(xs + ys, 0.0, 1.0, dtype=np.float32)


def kept_features(points: np.ndarray, shape_hw: tuple[int, ...], iod: float) -> np.ndarray:
    """bool: what is never dropped of the 68 ``points``' face (``CORE``, the eyes
    grown by ``EYE_GROW``, the brows), ``iod`` pixels between its eyes."""
    out = np.zeros(shape_hw[:2], np.uint8)
    grow = max(1, round(EYE_GROW * iod))
    for idx in (CORE, *EYES):
        hull = cv2.convexHull(np.round(points[idx]).astype(np.int32))
        cv2.fillConvexPoly(out, hull, 1)
        # A line 2 grow + 1 wide round the hull: the hull grown by a disc, cheaply.
        cv2.polylines(out, [hull], True, 1, 2 * grow + 1)
    brows = [np.round(points[idx]).astype(np.int32) for idx in BROWS]
    cv2.polylines(out, brows, False, 1, max(1, round(BROW_WIDTH * iod)))
    return out.astype(bool)


def reaching_out(candidates: np.ndarray, edge: np.ndarray) -> np.ndarray:
    """bool: the 8-connected parts of ``candidates`` (bool) that touch ``edge`` (bool)."""
    count, labels = cv2.connectedComponents(candidates.astype(np.uint8), connectivity=8)
    if count <= 1:
        return np.zeros_like(candidates)
    touching = np.zeros(count, bool)
    touching[labels[edge & candidates]] = True
    touching[0] = False
    return touching[labels]


def not_skin(
    image: np.ndarray,
    reference: np.ndarray,
    iod: float,
    darker: float = 0.0,
    box: tuple[slice, slice] | None = None,
    within: np.ndarray | None = None,
) -> np.ndarray:
    """bool over ``image[box]`` (all of it by default): pixels unlike the skin
    at ``reference`` (bool, ``image``'s shape), on a thin dark line, or darker
    than ``darker`` of the reference's 5th percentile of grey; ``iod``: pixels
    between the eyes. ``within`` (bool over the box): only these are judged
    (the colour test costs most and the caller keeps no others)."""
    box = box or (slice(None), slice(None))
    pixels = image[box]
    grey = cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY)
    if np.count_nonzero(reference) < 8:  # too small to judge: nothing is hair
        return np.zeros(grey.shape, bool)
    # Flat indices: take of 3-channel pixels is ~4x faster than a 2-D mask.
    own = image.reshape(-1, 3).take(np.flatnonzero(reference), 0)
    radius = max(1, round(LINE_IOD * iod))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    line = cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, kernel)
    # The reference's grey levels: its pixels converted as one row (not the grid);
    # its median and 5th percentile, by a partial sort.
    levels = cv2.cvtColor(own.reshape(1, -1, 3), cv2.COLOR_BGR2GRAY).ravel()
    low, mid = len(levels) // 20, len(levels) // 2
    levels = np.partition(levels, (low, mid))
    out = line > DARK_LINE * float(levels[mid])
    if darker > 0.0:
        out |= grey < darker * float(levels[low])
    if within is not None:
        out &= within
    # The colour test, the costliest, only where the others found nothing.
    judged = np.flatnonzero(~out if within is None else within & ~out)
    if judged.size:
        likely = skin.skin_likelihood(pixels.reshape(-1, 3).take(judged, 0), own)
        np.put(out, judged, likely < NOT_SKIN)
    return out


def _hair(
    image: np.ndarray,
    points: np.ndarray,
    iod: float,
    box: tuple[slice, slice],
    within: np.ndarray,
    darker: float = 0.0,
) -> np.ndarray:
    """``not_skin`` of ``image[box]`` where ``within`` (bool over the box), its
    skin read on the cheeks and nose of its 68 ``points``."""
    reference = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(reference, [np.round(points[skin.REFERENCE]).astype(np.int32)], 1)
    return not_skin(image, reference.astype(bool), iod, darker, box, within)
