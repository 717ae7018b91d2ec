"""The colour of a lifted shadow: the lit skin's chromaticity, not the shadow's.

A face's half in shadow is lit by what is left: light bounced off a wall, a
cheek, the sky, a grey backdrop. Each tints its patch of skin its own way (a
warm glow where a cheek faces a lit surface, green-grey towards a cool
backdrop), and the camera's noise and its JPEG's colour blocks are strongest
there. Lifted to the target's light (``relight``), that half keeps these tints,
multiplied up: blotches of lavender, green-grey and peach a fraction of the eye
distance across, which the colour match (local means over ~0.35 of it) is too
coarse to follow. Beside the even skin of the lit half it reads grey and muddy.

So where the light map lifts strongly, the skin's chromaticity (each channel's
log over their mean: colour without lightness) finer than the colour match's
scale is taken out and the chromaticity of the face's skin at that scale put
in, read mostly on its unlifted skin (normalised convolution, lifted skin
weighing little), so the lifted half takes the lit half's colour as the colour
match made it. Lightness is kept: only colour moves, so the light figures and
the features' relief are left alone; the features (eyes, brows, lips, nostrils)
keep their own colour.
"""

from __future__ import annotations

import cv2
import numpy as np

from . import colour, relight

# The light map's lift (log gain) from which the correction starts, and where it is full.
LIFT = (0.1, 0.3)
# The chromaticity is read at this share of the inter-ocular distance (its own:
# finer than a tint's patch, coarser than pores and the grid's noise) ...
FINE_IOD = 0.06
# Luma weights of OpenCV's BGR -> grey: the lightness kept.
LUMA = np.array([0.114, 0.587, 0.299], np.float32)


def _ramp(values: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    lo, hi = bounds
    return np.clip((values - lo) * np.float32(1 / (hi - lo)), 0.0, 1.0)


def chroma_gain(
    source: np.ndarray,
    face: np.ndarray,
    lift: np.ndarray,
    skin: np.ndarray,
    points: np.ndarray,
    iod: float,
) -> np.ndarray:
    """(h, w, 3) float32 gain giving the skin that ``lift`` (the light map's gain)
    raises strongly out of a shadow of ``source`` (the warped source, uint8) the
    chromaticity of the lit skin it mirrors, its lightness kept. ``face``: the
    source as corrected (float BGR), ``skin``: 0..1 weights (the hull without the
    features), ``points``: the face's 68 points, all on one grid with ``iod``
    pixels between the eyes. All 1 where nothing is lifted by LIFT's first bound."""
    depth = np.minimum(np.log(np.maximum(lift, 1e-6)), shadow_depth(source, points, iod))
    strength = _ramp(depth, LIFT)
    weight = strength * skin
    if float(weight.max()) <= 0.0:
        return np.ones((*lift.shape, 3), np.float32)
    logs = np.log(np.clip(face, 0.0, 255.0) + 4.0).astype(np.float32)
    chroma = colour.masked_lowpass(
        logs - logs.mean(axis=2, keepdims=True), skin, max(FINE_IOD * iod, 0.5)
    )
    lit = skin * (1.0 - strength)
    gain = np.exp((_reference(chroma, lit, points) - chroma) * weight[..., None])
    # The grey level as it was: only the colour moves.
    pixels = np.clip(face, 0.0, 255.0) + 4.0
    kept = (pixels @ LUMA) / np.maximum((pixels * gain) @ LUMA, 1e-3)
    return (gain * kept[..., None]).astype(np.float32)


def shadow_depth(source: np.ndarray, points: np.ndarray, iod: float) -> np.ndarray:
    """How far (log luminance) ``source`` is darker than its mirror half
    (``relight``'s antisymmetric light, negated), smoothed as its light map: a
    lift there is a shadow's, not a target's side light laid on lit skin."""
    logs = relight.log_luminance(source)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    size = (logs.shape[1], logs.shape[0])
    mirrored = cv2.warpAffine(
        logs, relight.mirror_affine(points), size, flags=flags, borderMode=cv2.BORDER_REPLICATE
    )
    return cv2.GaussianBlur((mirrored - logs) * 0.5, (0, 0), max(relight.SMOOTH_IOD * iod, 0.5))


def _reference(chroma: np.ndarray, lit: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The chromaticity each pixel should have: its mirror partner's (through the
    face's landmarks, ``relight.mirror_affine``) where that is lit skin, else the
    lit skin's mean (``lit``: 0..1 weights)."""
    size = (lit.shape[1], lit.shape[0])
    both = cv2.merge([chroma * lit[..., None], lit])
    mirrored = cv2.warpAffine(
        both,
        relight.mirror_affine(points),
        size,
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
    )
    total = max(float(lit.sum()), 1e-6)
    mean = (chroma * lit[..., None]).reshape(-1, 3).sum(axis=0) / total
    share = mirrored[..., 3:]
    return mirrored[..., :3] + (1.0 - share) * mean.astype(np.float32)
