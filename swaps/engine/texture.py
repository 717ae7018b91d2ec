"""The source face's noise, cleaned before it is enlarged, and the target's grain.

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

After the colour and light match, the enlarged face gets grain back
(``add_grain``): the target's finest detail, which no enlargement carries.
"""

from __future__ import annotations

import functools
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
NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


def noise_sigma(grey: np.ndarray, inside: np.ndarray | None = None) -> float:
    """Standard deviation of ``grey``'s noise (levels), Immerkaer's estimate made
    robust (the median residual, so a face's few edges weigh little), over
    ``inside`` (!= 0) or everywhere; 0 for an empty region."""
    residual = np.abs(cv2.filter2D(grey.astype(np.float32), cv2.CV_32F, NOISE_KERNEL))
    values = residual[inside.astype(bool)] if inside is not None else residual.ravel()
    if values.size == 0:
        return 0.0
    # The median of |residual| times 1.4826 is its sigma; the kernel's norm is 6.
    return float(np.median(values) * 1.4826 / 6.0)


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
    luma, cr, cb = cv2.split(cv2.cvtColor(region, cv2.COLOR_BGR2YCrCb))
    chroma = _blur_u8(cv2.merge([cr, cb]), CHROMA_SIGMA * share)
    luma_share = enlargement_share(scale, LUMA_ENLARGE)
    if luma_share > 0.0:  # the noise is read only where it is cleaned
        h, w = luma.shape
        level = noise_sigma(luma[h // 4 : h - h // 4, w // 4 : w - w // 4]) * luma_share
        if level > 0.5:
            luma = cv2.bilateralFilter(luma, 5, LUMA_RANGE * level, LUMA_SPACE)
    return cv2.cvtColor(cv2.merge([luma, chroma]), cv2.COLOR_YCrCb2BGR)


def _blur_u8(image: np.ndarray, sigma: float) -> np.ndarray:
    """``cv2.GaussianBlur(image, (0, 0), sigma)`` of a uint8 image, its channels
    together, with a float kernel: OpenCV's bit-exact 8-bit path costs ~3x as
    much (0.19 against 0.065 ms a plane of a 250 px face); levels differ by 1 at most."""
    taps = max(3, round(sigma * 6 + 1) | 1)  # the kernel size GaussianBlur gives uint8
    kernel = cv2.getGaussianKernel(taps, sigma, cv2.CV_32F)
    return cv2.sepFilter2D(image, -1, kernel, kernel, borderType=cv2.BORDER_REFLECT_101)


# The target's grain, given to an enlarged face. A face enlarged from a small
# photo has no detail finer than a source pixel grown to several of the
# target's: inside a sharp photo it is a smooth, plastic oval. So it gets
# grain: noise split into octaves (from the pixel level up to a hundredth of
# the eye distance), each at the level the target's face has in that octave,
# as much as the result lacks there. Synthetic, not the target's own finest
# band: that carries the target's wrinkles and, on a small face, its features
# (held-out d_src 0.396 -> 0.406 with it on faces from 40 px between the eyes;
# 0.396 with noise). A fixed field, so the same inputs give the same bytes.
GRAIN_IOD = 0.01  # the coarsest octave's blur: this share of the inter-ocular distance
GRAIN_MIN_SIGMA = 0.8  # px: the finest octave's blur (the pixel level)
# Faces this far between the eyes (px) take no grain / all of it: on a smaller
# face the finest band is mostly its features, so its level is not the grain's.
GRAIN_FACE_IOD = (40.0, 80.0)
NOISE_TILE = 1024  # px: the noise field repeats this far apart
NOISE_SEED = 9


def grain_share(scale: float, iod_px: float) -> float:
    """0..1: how much grain a face enlarged ``scale`` times onto a face
    ``iod_px`` between the eyes takes."""
    return enlargement_share(scale) * enlargement_share(iod_px, GRAIN_FACE_IOD)


def grain_sigmas(iod_px: float) -> list[float]:
    """The blurs (Gaussian sigmas, pixels) that split the grain into octaves."""
    sigmas = [GRAIN_MIN_SIGMA]
    while sigmas[-1] * 2 <= GRAIN_IOD * iod_px:
        sigmas.append(sigmas[-1] * 2)
    return sigmas


def octaves(grey: np.ndarray, sigmas: list[float]) -> list[np.ndarray]:
    """``grey``'s bands (float32): itself minus its blur at ``sigmas[0]``, that
    blur minus the next one, and so on (they add up to ``grey`` minus the last blur)."""
    grey = grey.astype(np.float32, copy=False)  # read only: no copy of a float field
    finer, bands = grey, []
    for sigma in sigmas:
        coarser = detail.soften(grey, sigma)
        bands.append(finer - coarser)
        finer = coarser
    return bands


def band_level(band: np.ndarray, region: np.ndarray) -> float:
    """The RMS of ``band`` over ``region`` (uint8, != 0), each value clipped at
    3x the mean |value| first, so a few edges (wrinkles, glasses) weigh little.
    Read on every other pixel of every other row: as steady, a quarter of the cost."""
    size = np.abs(band[::2, ::2])
    region = np.ascontiguousarray(region[::2, ::2])
    mean = cv2.mean(size, region)[0]
    if mean <= 0.0:
        return 0.0
    clipped = cv2.min(size, 3.0 * mean)
    return math.sqrt(cv2.mean(cv2.multiply(clipped, clipped), region)[0])


def missing_share(have: float, want: float) -> float:
    """How much of a texture of level ``want`` to add to one of level ``have``
    (independent textures add in energy) so it reaches ``want``: 0 if it does."""
    return math.sqrt(1.0 - (have / want) ** 2) if want > have else 0.0


def add_grain(
    face: np.ndarray, target: np.ndarray, skin: np.ndarray, inner: np.ndarray, iod_px: float
) -> np.ndarray:
    """``face`` (BGR uint8, the corrected source on the target's crop) with grain
    where ``skin`` (0..1 weights) says: in each octave as much as ``face`` lacks
    of the ``target`` crop's level over ``inner`` (uint8 != 0, the central skin)."""
    sigmas = grain_sigmas(iod_px)
    box = _around(inner, 4 * sigmas[-1])  # levels are read here only
    grey = cv2.cvtColor(face[box], cv2.COLOR_BGR2GRAY).astype(np.float32)
    region = inner[box]
    want = [
        band_level(b, region)
        for b in octaves(cv2.cvtColor(target[box], cv2.COLOR_BGR2GRAY), sigmas)
    ]
    have = [band_level(b, region) for b in octaves(grey, sigmas)]
    shares = [missing_share(h, w) for h, w in zip(have, want, strict=True)]
    if max(shares) <= 0.0:
        return face
    field = _noise_octaves(face.shape, len(sigmas))
    # Each octave of the noise at the target's level, times its share.
    shares = [
        s * w / max(band_level(b[box], region), 1e-6)
        for s, b, w in zip(shares, field, want, strict=True)
    ]
    # A band filtered again keeps less than itself, and each octave added
    # spills into its neighbours: read what the sum gives and correct once.
    added = _sum([b[box] for b in field], shares)
    got = [band_level(b, region) for b in octaves(grey + added, sigmas)]
    shares = [
        s * min(_correction(h, w, g), 2.0)
        for s, h, w, g in zip(shares, have, want, got, strict=True)
    ]
    layer = _sum(field, shares)
    layer *= skin
    return cv2.add(face, cv2.merge([layer] * 3), dtype=cv2.CV_8U)


def _around(region: np.ndarray, margin: float) -> tuple[slice, slice]:
    """The box of ``region``'s pixels (!= 0), grown by ``margin``, in the image."""
    x, y, w, h = cv2.boundingRect(region)
    pad = math.ceil(margin)
    rows, cols = region.shape[:2]
    return slice(max(y - pad, 0), min(y + h + pad, rows)), slice(
        max(x - pad, 0), min(x + w + pad, cols)
    )


def _sum(bands: list[np.ndarray], shares: list[float]) -> np.ndarray:
    """The sum of ``bands`` times their ``shares``, in place on the first product
    (a crop-sized float image: each pass over it counts)."""
    total = bands[0] * shares[0]
    for band, share in zip(bands[1:], shares[1:], strict=True):
        total += band * share
    return total


def _correction(have: float, want: float, got: float) -> float:
    """The factor on an added texture that gave ``got`` where ``want`` was asked."""
    added = got * got - have * have
    return math.sqrt((want * want - have * have) / added) if want > have and added > 0 else 1.0


def warm_up() -> None:
    """Make the noise field's finest octave now rather than in the first swap
    that needs it (faces of 40-160 px between the eyes use that one alone)."""
    _tile_octave(0)


@functools.cache
def _noise_tile() -> np.ndarray:
    return np.random.default_rng(NOISE_SEED).standard_normal((NOISE_TILE, NOISE_TILE), np.float32)


@functools.cache
def _tile_octave(k: int) -> np.ndarray:
    """Octave ``k`` of the noise tile (``octaves`` at ``grain_sigmas``' blurs),
    read-only, made once a process: as periodic as the tile (it is blurred with
    a wrapped margin), so a face larger than the tile tiles its octaves too."""
    sigmas = [GRAIN_MIN_SIGMA * 2.0**i for i in range(k + 1)]
    pad = 16 * math.ceil((4.0 * sigmas[-1] + 8.0) / 16.0)  # keeps halvings exact
    padded = np.pad(_noise_tile(), pad, mode="wrap")
    band = octaves(padded, sigmas)[-1][pad:-pad, pad:-pad].copy()
    band.flags.writeable = False
    return band


def _noise_octaves(shape_hw: tuple[int, ...], n: int) -> list[np.ndarray]:
    """The first ``n`` octaves of a white noise field (sigma 1) of ``shape_hw``:
    the same field for every call, each octave made once a process (a crop-sized
    blur a face saved: ~0.25 ms at 1 MP, tens of ms on a 29 MP portrait)."""
    h, w = shape_hw[:2]
    reps = (-(-h // NOISE_TILE), -(-w // NOISE_TILE))
    bands = [_tile_octave(k) for k in range(n)]
    if reps != (1, 1):
        bands = [np.tile(b, reps) for b in bands]
    return [b[:h, :w] for b in bands]  # views: no copy for a face that fits
