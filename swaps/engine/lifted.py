"""A lifted shadow's colour and noise: the lit skin's, not the shadow's.

A face's half in shadow is lit by what is left: light bounced off a wall, a
cheek, the sky, a grey backdrop. Each tints its patch of skin its own way (a
warm glow where a cheek faces a lit surface, green-grey towards a cool
backdrop), and the camera's noise and its JPEG's colour blocks are strongest
there. Lifted to the target's light (``relight``), that half keeps its tints and
its noise, multiplied up: blotches of lavender, green-grey and peach a fraction
of the eye distance across, which the colour match (local means over ~0.35 of
it) is too coarse to follow, on a speckled skin. Beside the lit half it reads
grey and muddy: the shared pair's selfie into base.

So where the light lifts the source out of its own shadow (``shadow_strength``:
the light map's lift, and the source darker than its mirror half there):

- colour (``chroma_gain``, a factor on the gain): the skin's chromaticity (each
  channel's log over their mean: colour without lightness), read at FINE_IOD,
  is replaced by that of its mirror partner through the landmarks (the lit
  skin of the same cheek, brow or jaw, as the colour match made it), or where
  that is no lit skin, the lit skin's mean. Lightness is kept, so the light
  figures are left alone; the features (eyes, brows, lips, nostrils) keep their
  own colour. A chroma-only match to the target's skin (0.25 iod, session 8)
  left the tints: they are finer, and the target's skin is not the lit half's.
- noise (``even_noise``, on the corrected face at full size): the finest band
  (NOISE_IOD), relative to the local level as a multiply leaves it, is taken
  down to the lit skin's noise level.
- brightness (``level_gain``, a factor on the gain before the plane step, so
  the lit half's own tilt is not copied): the light map, smooth at 0.25 of the
  eye distance and bounded, leaves the lifted half mottled (patches 0.2-0.6 of
  it across, a dark band where it fades at the jaw). Where the source is darker
  than its mirror half, the skin's local mean log brightness (LEVEL_IOD) is
  set to its lit mirror partner's plus the target's own difference between the
  two places (so the target's light stays, the source's does not come back),
  bounded; the features in the shadow go with the skin round them. The shared
  pair's selfie into base: light 1.58 -> 1.25, half blotch 0.55 -> 0.21.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from . import colour, detail, relight, texture
from .planes import channels_of
from .regions import Analysis

# The light map's lift (log gain) from which the correction starts, and where it is full.
LIFT = (0.1, 0.3)
# Less of the skin lifted than this share is left alone: on the speed benchmark's
# pair (2.8% of it) the steps changed 820 pixels by at most 6 levels, for ~2 ms a face.
MIN_LIFTED_SHARE = 0.05
# The chromaticity is read at this share of the inter-ocular distance: finer
# than a tint's patch, coarser than pores and the grid's noise (0.1 and 0.15:
# the shared pair's half chroma 2.19 and 2.49 against 1.98).
FINE_IOD = 0.06
# The colour's steps are made on a grid this many pixels between the eyes (as
# ``relight``'s light map and ``outer``): their maps are that smooth.
WORK_IOD_PX = 32.0
# Luma weights of OpenCV's BGR -> grey: the lightness kept.
LUMA = np.array([0.114, 0.587, 0.299], np.float32)
# Each channel less the channels' mean (a log colour's chromaticity), for cv2.transform.
_LESS_MEAN = (np.eye(3) - 1.0 / 3.0).astype(np.float32)


def _ramp(values: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    lo, hi = bounds
    return np.clip((values - lo) * np.float32(1 / (hi - lo)), 0.0, 1.0)


def _work(shape_hw: tuple[int, ...], points: np.ndarray, iod: float) -> tuple:
    """The work grid (WORK_IOD_PX between the eyes) for a grid of ``shape_hw``:
    its size (w, h), and ``points`` and ``iod`` there."""
    h, w = shape_hw[:2]
    scale = min(1.0, WORK_IOD_PX / max(iod, 1e-6))
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    sx, sy = size[0] / w, size[1] / h
    return size, (points + 0.5) * (sx, sy) - 0.5, iod * sx


def shadow_strength(
    source: np.ndarray,
    lift: np.ndarray,
    skin: np.ndarray,
    points: np.ndarray,
    iod: float,
    shading: np.ndarray | None = None,
) -> np.ndarray | None:
    """0..1: how strongly ``lift`` (the light map's gain) raises ``source`` (the
    warped source, uint8) out of its own shadow (LIFT), all on one grid with
    the face's 68 ``points``, ``iod`` pixels between the eyes; None when that is
    under MIN_LIFTED_SHARE of ``skin`` (0..1 weights). On the work grid
    (WORK_IOD_PX between the eyes): the light map is that smooth. ``shading``:
    the source's own smoothed light map there (``relight.light_maps``), if the
    caller has it: its shadow's depth, negated (else read anew, ``shadow_depth``)."""
    size, points, iod = _work(lift.shape, points, iod)
    lift, skin = (cv2.resize(im, size, interpolation=cv2.INTER_AREA) for im in (lift, skin))
    if shading is None or shading.shape[1::-1] != size:
        small = cv2.resize(source, size, interpolation=cv2.INTER_AREA)
        depth = shadow_depth(small, points, iod)
    else:
        depth = -shading
    depth = np.minimum(np.log(np.maximum(lift, 1e-6)), depth)
    strength = _ramp(depth, LIFT)
    lifted = np.count_nonzero((strength * skin) > 0.5)
    return strength if lifted >= MIN_LIFTED_SHARE * np.count_nonzero(skin > 0.5) else None


def chroma_gain(
    face: np.ndarray, strength: np.ndarray, skin: np.ndarray, points: np.ndarray, iod: float
) -> np.ndarray:
    """(h, w, 3) float32 gain giving the skin lifted out of a shadow (``strength``,
    ``shadow_strength``, on the work grid) the chromaticity of the lit skin it
    mirrors, its lightness kept. ``face``: the source as corrected (float BGR),
    ``skin``: 0..1 weights (the hull without the features), ``points``: the
    face's 68 points, all on one grid with ``iod`` pixels between the eyes.
    Made on the work grid, returned on ``face``'s."""
    size, points, iod = _work(face.shape, points, iod)
    face, skin = (cv2.resize(im, size, interpolation=cv2.INTER_AREA) for im in (face, skin))
    weight = strength * skin
    if float(weight.max()) <= 0.0:
        return np.ones((*strength.shape, 3), np.float32)
    logs = np.log(np.clip(face, 0.0, 255.0) + 4.0).astype(np.float32, copy=False)
    chroma = colour.masked_lowpass(cv2.transform(logs, _LESS_MEAN), skin, max(FINE_IOD * iod, 0.5))
    lit = skin * (1.0 - strength)
    gain = np.exp((_reference(chroma, lit, points) - chroma) * channels_of(weight))
    # The grey level as it was: only the colour moves.
    pixels = np.clip(face, 0.0, 255.0) + 4.0
    kept = (pixels @ LUMA) / np.maximum((pixels * gain) @ LUMA, 1e-3)
    return (gain * channels_of(kept)).astype(np.float32, copy=False)


def lifted_strength(
    grid: Analysis, light: np.ndarray, skin: np.ndarray, shading: np.ndarray | None = None
) -> np.ndarray | None:
    """``shadow_strength`` of the light map ``light`` on the analysis ``grid``'s
    source, on the ``skin`` (0..1, the hull without the features): read once
    for the steps below; None, at no cost, when the map lifts nothing.
    ``shading``: as ``shadow_strength``'s."""
    if light.max() <= np.exp(LIFT[0]):
        return None
    return shadow_strength(grid.source, light, skin, grid.points, grid.iods[0], shading)


def lit_colour(
    grid: Analysis, gain: np.ndarray, strength: np.ndarray, skin: np.ndarray
) -> np.ndarray:
    """``gain`` (the colour and light steps' gain on the analysis ``grid``) with
    the lit skin's colour on the ``skin`` lifted out of a shadow (``strength``,
    ``lifted_strength``; ``chroma_gain``)."""
    face = grid.source.astype(np.float32) * gain
    chroma = chroma_gain(face, strength, skin, grid.points, grid.iods[0])
    return gain * cv2.resize(chroma, grid.grid, interpolation=cv2.INTER_LINEAR)


def levels_read(grid: Analysis) -> bool:
    """Whether the face on the analysis ``grid`` is big enough in its photo
    (LEVEL_MIN_IOD_PX between the eyes) for ``even_level``."""
    return grid.iods[0] * grid.step[0] >= LEVEL_MIN_IOD_PX


def even_level(grid: Analysis, gain: np.ndarray, skin: np.ndarray, hull: np.ndarray) -> np.ndarray:
    """``gain`` (on the analysis ``grid``) times ``level_gain`` on the ``hull``
    (``skin``: 0..1, the hull without the features)."""
    level = level_gain(grid.source.astype(np.float32) * gain, grid, skin, hull)
    return gain * channels_of(cv2.resize(level, grid.grid, interpolation=cv2.INTER_LINEAR))


# The local brightness is read (over the skin) at this share of the
# inter-ocular distance: a blotch the light map leaves is 0.2-0.6 of it across
# (0.1: the fixtures' blotchy shadow kept 86-90% of what it kept without the
# step, 0.06: 75-78%; held-out worst shade 4.85 and 4.90, 4.81 without).
LEVEL_IOD = 0.06
# The source's shadow, for this step: darker than its mirror half (log, halved)
# from the first on, fully from the second, read at LEVEL_DEPTH_IOD.
LEVEL_DEPTH = (0.1, 0.3)
LEVEL_DEPTH_IOD = 0.25
# The correction is bounded (log gain) either way: it evens blotches and lifts
# a shadow a little past the light map's bound, it does not repaint a face.
LEVEL_BOUND = 0.4
# It fades out over this share of the inter-ocular distance inside the hull:
# at the outline the mirror lands on the lit half's inner cheek (or the
# target's hair), and the shared pair's lifted jaw read a bright rim (whole
# face light 1.35 -> 1.57; 1.42 with the fade).
LEVEL_FADE_IOD = 0.2
# Faces smaller than this (pixels between the eyes, in the photo) are left
# alone: there the mirror's error through the landmarks is a blotch's size.
LEVEL_MIN_IOD_PX = 40.0


def level_gain(face: np.ndarray, grid: Analysis, skin: np.ndarray, hull: np.ndarray) -> np.ndarray:
    """(h, w) float32 gain giving the face (``hull``: 0..1) in the source's
    shadow (darker than its mirror half, LEVEL_DEPTH) the local brightness of
    its skin (at LEVEL_IOD; ``skin``: 0..1 weights; across a feature, the skin
    round it) of its lit mirror partner, plus the target's own difference
    between the two places (its light, not the source's). ``face``: the source
    as corrected (float BGR) on the analysis ``grid``. A feature in the shadow
    (a brow, an eye) is lifted as the skin round it. Made on the work grid,
    returned on ``face``'s. The light map's lift is not asked for: at the
    hull's edge it fades out, and it stops at its bound."""
    size, points, iod = _work(face.shape, grid.points, grid.iods[0])
    # Two resizes for all: the three grey levels, then the skin and the hull.
    images = (np.clip(face, 0.0, 255.0), grid.target, grid.source)
    greys = cv2.merge([cv2.cvtColor(im, cv2.COLOR_BGR2GRAY).astype(np.float32) for im in images])
    logs = np.log(cv2.resize(greys, size, interpolation=cv2.INTER_AREA) + 4.0)
    masks = cv2.resize(cv2.merge([skin, hull]), size, interpolation=cv2.INTER_AREA)
    skin, hull = masks[..., 0], masks[..., 1]
    local = _skin_level(logs, skin, max(LEVEL_IOD * iod, 0.5))
    mirrored = relight.mirrored(local, points)
    spread = max((LEVEL_DEPTH_IOD - LEVEL_IOD) * iod, 0.5)
    depth = cv2.GaussianBlur((mirrored[..., 2] - local[..., 2]) * 0.5, (0, 0), spread)
    strength = _ramp(depth, LEVEL_DEPTH)
    inside = _ramp(cv2.GaussianBlur(hull, (0, 0), max(LEVEL_FADE_IOD * iod, 0.5)), (0.5, 1.0))
    lit = np.clip(relight.mirrored(hull * (1.0 - strength), points), 0.0, 1.0)
    # The lit partner's level, moved by what the target's light makes of the two places.
    wanted = mirrored[..., 0] + local[..., 1] - mirrored[..., 1]
    change = np.clip(wanted - local[..., 0], -LEVEL_BOUND, LEVEL_BOUND)
    return np.exp(change * strength * inside * lit).astype(np.float32)


def _skin_level(logs: np.ndarray, skin: np.ndarray, sigma: float) -> np.ndarray:
    """``logs``' local mean over ``skin`` at ``sigma``; across a feature wider
    than that (a brow grown), the skin's at three times it."""
    fine = colour.masked_lowpass(logs, skin, sigma)
    cover = cv2.GaussianBlur(skin, (0, 0), sigma)
    wide = colour.masked_lowpass(logs, skin, 3.0 * sigma)
    share = channels_of(_ramp(cover, (0.05, 0.3)), fine.shape[2])
    return fine * share + wide * (1.0 - share)


def shadow_depth(source: np.ndarray, points: np.ndarray, iod: float) -> np.ndarray:
    """How far (log luminance) ``source`` is darker than its mirror half
    (``relight``'s antisymmetric light, negated), smoothed as its light map: a
    lift there is a shadow's, not a target's side light laid on lit skin."""
    logs = relight.log_luminance(source)
    mirrored = relight.mirrored(logs, points)
    return cv2.GaussianBlur((mirrored - logs) * 0.5, (0, 0), max(relight.SMOOTH_IOD * iod, 0.5))


def _reference(chroma: np.ndarray, lit: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The chromaticity each pixel should have: its mirror partner's (through the
    face's landmarks, ``relight.mirror_affine``) where that is lit skin, else the
    lit skin's mean (``lit``: 0..1 weights)."""
    both = cv2.merge([chroma * channels_of(lit), lit])
    mirrored = relight.mirrored(both, points, cv2.BORDER_CONSTANT)
    total = max(float(lit.sum()), 1e-6)
    mean = lit.reshape(-1) @ chroma.reshape(-1, 3) / total
    share = mirrored[..., 3:]
    return mirrored[..., :3] + (1.0 - share) * mean.astype(np.float32)


# The noise band: detail finer than this share of the inter-ocular distance
# (a shadow's noise and JPEG blocks, lifted with it; pores too).
NOISE_IOD = 0.006
# The band is taken down to the lit skin's level, never below this share of its own.
MIN_NOISE_SHARE = 0.4
# The band's width (px) where its noise is read, and its narrowest.
MEASURE_PX = 0.8


def even_noise(
    face: np.ndarray, strength: np.ndarray, skin: np.ndarray, iod_px: float
) -> np.ndarray:
    """``face`` (BGR uint8, the corrected source on the crop) with its finest
    detail on the skin lifted out of a shadow (``strength`` times ``skin``, each
    on a grid of its own) taken down to the level (relative to the local
    brightness, as a multiply leaves it) it has on the lit skin: a shadow's
    noise, multiplied up with it. ``iod_px``: the eyes' distance, crop pixels.
    Levels are read on the grey level; only the lifted skin's box is changed."""
    if float(strength.max()) <= 0.0:
        return face
    strength = cv2.resize(strength, skin.shape[1::-1], interpolation=cv2.INTER_LINEAR)
    lifted = strength * skin
    sigma = max(NOISE_IOD * iod_px, MEASURE_PX)
    cut = _noise_cut(face, lifted, skin * (1.0 - strength), sigma)
    if cut <= 0.0:
        return face
    weight = cv2.resize(lifted * np.float32(cut), face.shape[1::-1], interpolation=cv2.INTER_LINEAR)
    x, y, w, h = cv2.boundingRect((weight > 0).astype(np.uint8))
    pad = math.ceil(3 * sigma)
    box = slice(max(y - pad, 0), y + h + pad), slice(max(x - pad, 0), x + w + pad)
    out = face.copy()
    # face - (face - blurred) x weight, in OpenCV's 8-bit blend: a 29 MP photo's
    # face crop is ~4 MP, and float copies of it cost ~30 ms.
    weight = np.ascontiguousarray(weight[box])
    blurred = detail.soften(face[box], sigma)
    out[box] = cv2.blendLinear(face[box], blurred, 1.0 - weight, weight)
    return out


def _noise_cut(face: np.ndarray, lifted: np.ndarray, lit: np.ndarray, sigma: float) -> float:
    """How much of the finest band (``sigma`` px) to take off the ``lifted`` skin
    (weights on a grid of their own, as ``lit``) so its noise, relative to the
    local brightness, is the ``lit`` skin's: 0 when it is no noisier."""
    # Read where the band is about a pixel wide: on a big face, the same band on
    # a fraction of the pixels. In float: an 8-bit grey level's rounding is
    # noise of its own on bright skin.
    step = math.floor(sigma / MEASURE_PX)  # whole: OpenCV's fast area average
    if step > 1:
        w, h = max(1, face.shape[1] // step), max(1, face.shape[0] // step)
        face = cv2.resize(face[: h * step, : w * step], (w, h), interpolation=cv2.INTER_AREA)
        sigma /= step
    grey = cv2.cvtColor(face.astype(np.float32), cv2.COLOR_BGR2GRAY)
    smooth = detail.soften(grey, sigma)
    relative = cv2.divide(cv2.subtract(grey, smooth), cv2.add(smooth, 4.0))
    # Immerkaer's residual (``texture.noise_sigma``), its median read on every
    # other pixel of every other row (over a whole face it cost ~1.2 ms).
    residual = np.abs(cv2.filter2D(relative, cv2.CV_32F, texture.NOISE_KERNEL)[::2, ::2])
    half = residual.shape[1::-1]
    lifted, lit = (cv2.resize(m, half, interpolation=cv2.INTER_LINEAR) > 0.5 for m in (lifted, lit))
    have, want = _noise_level(residual, lifted), _noise_level(residual, lit)
    if have <= want or want <= 0.0:
        return 0.0
    return 1.0 - max(want / have, MIN_NOISE_SHARE)


def _noise_level(residual: np.ndarray, region: np.ndarray) -> float:
    """The noise's sigma from Immerkaer's ``residual`` over ``region``."""
    values = residual[region]
    return float(np.median(values)) * 1.4826 / 6.0 if values.size else 0.0
