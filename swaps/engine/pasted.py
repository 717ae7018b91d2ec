"""What a swap pastes that is not the source's face: its hair reaching in at
the temples (``hair_pasted``), its background or hair in the blend's feathered
edge along the jaw (``fringe_pasted``), and a patch of its shadow too deep for
the light to lift (``upper_patch``). Diagnostics of the engine benchmark, read
as ``quality``'s local measures are (``quality.Window``), each at its own scale."""

from __future__ import annotations

import cv2
import numpy as np

from .quality import (
    FOREHEAD_CHECK,
    Window,
    changed_pixels,
    filled_hull,
    inner_face,
    inter_ocular,
    lightness,
)
from .shape import FOREHEAD, extend_landmarks
from .skin import REFERENCE, skin_likelihood
from .strands import kept_features, upper_face

# The hair measure reads the face at twice the other local measures' scale (a
# lock's loose fibres vanish at theirs). A strand is darker than the brightest
# round it (within HAIR_LINE_IOD inter-ocular distances) by HAIR_LINE of the
# skin's median grey level, or not skin at all.
HAIR_IOD_PX = 128.0
HAIR_LINE_IOD, HAIR_LINE = 0.05, 0.15
# The eyes and brows left out are grown by this (inter-ocular distances) more.
HAIR_EYE_GROW = 0.06


def _hair_like(image: np.ndarray, region: np.ndarray, reference: np.ndarray, iod: float):
    """bool over ``region``: pixels of ``image`` unlike its skin at ``reference``
    (``skin.py``) or on a thin dark line (a strand)."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    radius = max(1, round(HAIR_LINE_IOD * iod))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    line = cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, kernel)[region]
    level = float(np.median(grey[reference]))
    likely = skin_likelihood(image[region], image[reference])
    return (likely <= 0.5) | (line > HAIR_LINE * level)


def hair_pasted(
    target: np.ndarray,
    output: np.ndarray,
    landmarks: np.ndarray,
    out_landmarks: np.ndarray | None = None,
) -> float:
    """Share of the upper face's bare skin outside its middle (from the nose's
    base up to ``FOREHEAD_CHECK`` above the brows, within the face's outline;
    eyes, brows and nose of the target and of the output, at ``out_landmarks``,
    left out: ``strands.kept_features``) that the swap changed into something
    hair-like (``_hair_like``, against the output's own cheeks and nose): the
    source's strands, earrings or hands pasted over the target's temples and forehead."""
    win = Window.around(target, output, landmarks, HAIR_IOD_PX)
    points, _ = extend_landmarks(win.landmarks, FOREHEAD_CHECK)
    shape_hw = win.target.shape[:2]
    outline = np.vstack([points[:17], points[FOREHEAD]])
    region = (filled_hull(shape_hw, outline) > 0) & (upper_face(win.landmarks, shape_hw) > 0)
    faces = [win.landmarks]
    if out_landmarks is not None:  # moved into window pixels
        scale = win.iod / inter_ocular(landmarks)
        faces.append(win.landmarks + (out_landmarks - landmarks) * scale)
    # The features grown further than the engine's: lids and lashes are dark lines.
    grow = max(1, round(HAIR_EYE_GROW * win.iod))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
    for points68 in faces:
        features = kept_features(points68, shape_hw, win.iod).astype(np.uint8)
        region &= cv2.dilate(features, kernel) == 0
    reference = filled_hull(shape_hw, win.landmarks[REFERENCE]) > 0
    if region.sum() < 8 or reference.sum() < 8:
        return 0.0
    was, now = (_hair_like(im, region, reference, win.iod) for im in (win.target, win.output))
    pasted = ~was & now & changed_pixels(win.target, win.output)[region]
    return float(np.count_nonzero(pasted) / max(np.count_nonzero(~was), 1))


# The upper face's dark patch: L* blurred over the upper face's skin at this
# share of the inter-ocular distance, and the share of that skin, darkest first,
# whose difference is read.
PATCH_BLUR_IOD = 0.1
PATCH_SHARE = 0.02


def upper_patch(
    target: np.ndarray,
    output: np.ndarray,
    landmarks: np.ndarray,
    out_landmarks: np.ndarray | None = None,
) -> float:
    """How much darker (L*) the output's darkest patches on the upper face's
    skin (``_upper_skin``) are than the target's, beyond the face's own change of
    level: the PATCH_SHARE percentile of the output's L* less the target's,
    blurred at PATCH_BLUR_IOD over that skin only, below the difference's median
    over the inner face's skin; 0 if none is. A shadow deeper than the light
    lifts (a grey temple, the source's hairline in shadow) reads high."""
    win = Window.around(target, output, landmarks)
    upper, inner = _upper_skin(win, landmarks, out_landmarks)
    if upper.sum() < 8 or inner.sum() < 8:
        return 0.0
    diff = lightness(win.output) - lightness(win.target)
    weights = upper.astype(np.float32)
    sigma = max(PATCH_BLUR_IOD * win.iod, 0.5)
    cover = np.maximum(cv2.GaussianBlur(weights, (0, 0), sigma), 1e-3)
    local = cv2.GaussianBlur(diff * weights, (0, 0), sigma) / cover
    darkest = np.percentile(local[upper], 100 * PATCH_SHARE)
    return max(0.0, float(np.median(diff[inner]) - darkest))


def _upper_skin(
    win: Window, landmarks: np.ndarray, out_landmarks: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """bool masks on the window: the upper face's skin (the outline and
    FOREHEAD_CHECK above the brows, at the eyes' level and above) and the inner
    face's; eyes, brows and nose of both faces (at ``out_landmarks``) left out,
    as ``hair_pasted``, and what is not the target's skin (its hair, glasses, a
    hat's brim: against its cheeks, ``skin.py``)."""
    points, _ = extend_landmarks(win.landmarks, FOREHEAD_CHECK)
    shape_hw = win.target.shape[:2]
    outline = np.vstack([points[:17], points[FOREHEAD]])
    upper = (filled_hull(shape_hw, outline) > 0) & (upper_face(win.landmarks, shape_hw) >= 1.0)
    inner = inner_face(shape_hw, win.landmarks)
    faces = [win.landmarks]
    if out_landmarks is not None:
        faces.append(
            win.landmarks + (out_landmarks - landmarks) * (win.iod / inter_ocular(landmarks))
        )
    for points68 in faces:
        kept = kept_features(points68, shape_hw, win.iod)
        upper, inner = upper & ~kept, inner & ~kept
    reference = filled_hull(shape_hw, win.landmarks[REFERENCE]) > 0
    if reference.sum() >= 8 and upper.any():
        upper[upper] = skin_likelihood(win.target[upper], win.target[reference]) > 0.5
    return upper, inner


# The fringe measure reads the lower outline (from halfway down from the eyes
# to the nose's base) at the hair measure's scale, from FRINGE_BAND[0] inside
# the target's 68 points' hull to FRINGE_BAND[1] outside it (inter-ocular
# distances; the morph may widen the face). A pixel is a fringe when its
# chromaticity lies further than FRINGE_CHROMA from every mix of the target's
# pixel there and the output's skin further in (its chromaticity averaged over
# FRINGE_SKIN, with a Gaussian of FRINGE_SKIN_SIGMA): a blend of the two would not.
FRINGE_BAND = (-0.2, 0.1)
FRINGE_SKIN, FRINGE_SKIN_SIGMA = (-0.6, -0.25), 0.25
FRINGE_CHROMA = 0.06


def fringe_pasted(target: np.ndarray, output: np.ndarray, landmarks: np.ndarray) -> float:
    """Share of the lower face's outline band (``FRINGE_BAND``) that the swap
    coloured with neither the target's colour there nor the output's own skin
    (``FRINGE_CHROMA``): the source's background or hair carried into the
    blend's feathered edge (a yellow wall's line along the jaw). Chromaticity
    (r, g, b over their sum), so a dark fringe counts as a bright one."""
    win = Window.around(target, output, landmarks, HAIR_IOD_PX)
    distance = win.distance()
    below = upper_face(win.landmarks, distance.shape) < 0.5
    region = below & (distance >= FRINGE_BAND[0]) & (distance <= FRINGE_BAND[1])
    skin = (below & (distance > FRINGE_SKIN[0]) & (distance < FRINGE_SKIN[1])).astype(np.float32)
    if region.sum() < 8 or skin.sum() < 8:
        return 0.0
    was, now = (_chromaticity(im) for im in (win.target, win.output))
    sigma = FRINGE_SKIN_SIGMA * win.iod
    spread = cv2.GaussianBlur(now * skin[..., None], (0, 0), sigma)
    own = spread / np.maximum(cv2.GaussianBlur(skin, (0, 0), sigma), 1e-6)[..., None]
    start, end, pixel = was[region], own[region], now[region]
    along = end - start
    share = np.einsum("ij,ij->i", pixel - start, along) / np.maximum(
        np.einsum("ij,ij->i", along, along), 1e-9
    )
    nearest = start + np.clip(share, 0.0, 1.0)[:, None] * along
    far = np.linalg.norm(pixel - nearest, axis=1) > FRINGE_CHROMA
    return float(np.mean(far & changed_pixels(win.target, win.output)[region]))


def _chromaticity(image: np.ndarray) -> np.ndarray:
    """(h, w, 3) float32: each BGR pixel's channels over their sum (one level
    added to each, so black is grey rather than undefined)."""
    levels = image.astype(np.float32) + 1.0
    return levels / levels.sum(axis=2, keepdims=True)
