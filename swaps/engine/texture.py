"""The source face's noise, cleaned before it is enlarged.

A face taken from a small or noisy photo (a group shot, a dark snapshot) and
laid on a bigger face is enlarged several times, and then brightened and
re-coloured by the light and colour match, often twice over in one channel
(a warm, dim snapshot into a cool studio portrait). Its noise and its JPEG's
colour blocks grow with it: a pixel's speckle becomes a blotch, a blue
channel's noise a streak of green and magenta across the cheek.

The source is cleaned at its own resolution, where it is small and the work
cheap, and only as much as the enlargement asks:

- colour: the chroma (YCrCb) is smoothed over about a source pixel and a half.
  A JPEG keeps colour at half resolution anyway, and the colour of skin,
  lips and eyes is broader than that;
- light: the luma goes through an edge-keeping (bilateral) filter whose range
  is the noise's own level (measured on the face, ``noise_sigma``), so
  speckle goes and the features' edges stay.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from . import detail

# Cleaning starts at this enlargement (target face / source face) and is full
# from the second: a face laid at about its own size keeps its texture.
ENLARGE = (1.25, 2.0)
# The luma's noise is cleaned only from a bigger enlargement: its fine texture
# is also what the recogniser reads (held-out d_src 0.397 -> 0.406 cleaned from
# 1.25x, 0.401 from 3x, 0.396 from 5x).
LUMA_ENLARGE = (5.0, 10.0)
CHROMA_SIGMA = 1.5  # source pixels
# The luma filter's range, in noise sigmas, and its reach (source pixels).
LUMA_RANGE = 2.5
LUMA_SPACE = 1.2
# Immerkaer's operator (the difference of two Laplacians): zero on any plane,
# so it reads noise, not shading.
_NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


def noise_sigma(grey: np.ndarray, region: np.ndarray | None = None) -> float:
    """Standard deviation of ``grey``'s noise (levels), Immerkaer's estimate,
    over ``region`` (!= 0) or everywhere. Edges read as noise too, so it is
    an upper bound on a face with sharp features."""
    response = np.abs(cv2.filter2D(grey.astype(np.float32), -1, _NOISE_KERNEL))
    mean = cv2.mean(response, region)[0] if region is not None else float(response.mean())
    return math.sqrt(math.pi / 2) * mean / 6.0


def enlargement_share(scale: float, bounds: tuple[float, float] = ENLARGE) -> float:
    """0..1: how much of the cleaning an enlargement of ``scale`` gets."""
    lo, hi = bounds
    return min(max((scale - lo) / (hi - lo), 0.0), 1.0)


def clean_source(region: np.ndarray, scale: float) -> np.ndarray:
    """``region`` (BGR uint8, the source face and a margin) with its noise
    cleaned for an enlargement of ``scale``; ``region`` itself below ENLARGE."""
    share = enlargement_share(scale)
    if share <= 0.0 or min(region.shape[:2]) < 8:
        return region
    ycc = cv2.cvtColor(region, cv2.COLOR_BGR2YCrCb)
    luma, cr, cb = cv2.split(ycc)
    sigma = CHROMA_SIGMA * share
    cr, cb = (cv2.GaussianBlur(c, (0, 0), sigma) for c in (cr, cb))
    h, w = luma.shape
    centre = luma[h // 4 : h - h // 4, w // 4 : w - w // 4]
    level = noise_sigma(centre) * enlargement_share(scale, LUMA_ENLARGE)
    if level > 0.5:
        luma = cv2.bilateralFilter(luma, 5, LUMA_RANGE * level, LUMA_SPACE)
    return cv2.cvtColor(cv2.merge([luma, cr, cb]), cv2.COLOR_YCrCb2BGR)


# The target's grain, given back to an enlarged face. A face enlarged from a
# small photo has no detail finer than a source pixel grown to several of the
# target's: inside a sharp photo it is a smooth, plastic oval. So the target's
# own finest bands (pores, grain, noise: octaves from the pixel level up to a
# hundredth of the eye distance) are laid on the face's skin, in each octave as
# much as the result lacks there, its edges clipped out.
GRAIN_IOD = 0.01  # the coarsest octave's blur: this share of the inter-ocular distance
GRAIN_MIN_SIGMA = 0.8  # px: the finest octave's blur (the pixel level)
GRAIN_CLIP = 2.5  # texture past this many of its own RMS is an edge: clipped


def grain_share(scale: float, iod_px: float) -> float:
    """0..1: how much of the target's grain a face enlarged ``scale`` times onto
    a face ``iod_px`` between the eyes takes. None on a face whose hundredth of
    the eye distance is under the pixel level's split: its finest band is its
    features (the recogniser reads them: held-out d_src +0.02 with grain on
    faces 40-80 px between the eyes), full once two octaves fit."""
    reach = (GRAIN_IOD * iod_px - GRAIN_MIN_SIGMA) / GRAIN_MIN_SIGMA
    return enlargement_share(scale) * min(max(reach, 0.0), 1.0)


def grain_sigmas(iod_px: float) -> list[float]:
    """The blurs (Gaussian sigmas, pixels) that split the grain into octaves."""
    sigmas = [GRAIN_MIN_SIGMA]
    while sigmas[-1] * 2 <= GRAIN_IOD * iod_px:
        sigmas.append(sigmas[-1] * 2)
    return sigmas


def octaves(grey: np.ndarray, sigmas: list[float]) -> list[np.ndarray]:
    """``grey``'s bands (float32): itself minus its blur at ``sigmas[0]``, that
    blur minus the next one, and so on (they add up to ``grey`` minus the last blur)."""
    grey = grey.astype(np.float32)
    finer, bands = grey, []
    for sigma in sigmas:
        coarser = detail.soften(grey, sigma)
        bands.append(finer - coarser)
        finer = coarser
    return bands


def band_level(band: np.ndarray, region: np.ndarray) -> float:
    """The RMS of ``band`` over ``region`` (!= 0), each value clipped at 3x the
    mean |value| first, so a few edges (wrinkles, a glasses frame) weigh little."""
    values = np.abs(band[region != 0])
    if values.size == 0:
        return 0.0
    values = np.minimum(values, 3.0 * float(values.mean()))
    return float(np.sqrt(np.mean(values * values)))


def missing_share(have: float, want: float, layer: float) -> float:
    """How much of a texture of level ``layer`` to add to one of level ``have``
    (independent textures add in energy) so it reaches ``want``: 0 if it does."""
    return math.sqrt(want * want - have * have) / layer if want > have and layer > 0 else 0.0


def add_grain(
    face: np.ndarray, target: np.ndarray, skin: np.ndarray, inner: np.ndarray, iod_px: float
) -> np.ndarray:
    """``face`` (BGR uint8, the corrected source on the target's crop) with the
    ``target`` crop's finest octaves added where ``skin`` (0..1 weights) says,
    each as much as ``face`` lacks of it over ``inner`` (!= 0, inner-face skin)."""
    sigmas = grain_sigmas(iod_px)
    grey = cv2.cvtColor(face, cv2.COLOR_BGR2GRAY).astype(np.float32)
    wanted = octaves(cv2.cvtColor(target, cv2.COLOR_BGR2GRAY), sigmas)
    want = [band_level(band, inner) for band in wanted]
    have = [band_level(band, inner) for band in octaves(grey, sigmas)]
    clipped = [
        cv2.min(cv2.max(b, -GRAIN_CLIP * w), GRAIN_CLIP * w)
        for b, w in zip(wanted, want, strict=True)
    ]
    shares = [
        min(missing_share(h, w, band_level(c, inner)), 1.0)
        for h, w, c in zip(have, want, clipped, strict=True)
    ]
    if max(shares) <= 0.0:
        return face
    # A band filtered again keeps less than itself, and each octave added
    # spills into its neighbours: read what the sum gives and correct once.
    got = [band_level(b, inner) for b in octaves(grey + _sum(clipped, shares), sigmas)]
    shares = [
        min(s * _correction(h, w, g), 2.0)
        for s, h, w, g in zip(shares, have, want, got, strict=True)
    ]
    layer = _sum(clipped, shares) * skin
    return cv2.add(face, cv2.merge([layer] * 3), dtype=cv2.CV_8U)


def _sum(bands: list[np.ndarray], shares: list[float]) -> np.ndarray:
    return sum((band * share for band, share in zip(bands, shares, strict=True)), np.float32(0))


def _correction(have: float, want: float, got: float) -> float:
    """The factor on an added texture that gave ``got`` where ``want`` was asked."""
    added = got * got - have * have
    return math.sqrt((want * want - have * have) / added) if want > have and added > 0 else 1.0
