"""Colour correction of the warped source towards the target's skin tone and light.

The correction is a smooth per-channel gain field: the ratio of the target's to
the warped source's local mean colour inside the face (a masked Gaussian low
pass). Low frequencies (skin tone, white balance, light falloff) come from the
target; everything finer (eyes, brows, lips, texture: the identity) stays the
source's. The field is smooth, so it is computed at the analysis resolution
and applied full size by one multiply.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .images import shrink
from .mask import hull_mask
from .planes import channels_of

# Wide enough for a dark skin onto a light one (a linear luminance ratio of ~5),
# but stops a black source region (a shadow, a beard) from being boosted into noise.
GAIN_RANGE = (1 / 6, 6.0)


def masked_lowpass(
    image: np.ndarray, mask: np.ndarray, sigma_px: float, weights: np.ndarray | None = None
) -> np.ndarray:
    """Gaussian low pass of ``image`` using only pixels where ``mask`` > 0.

    Normalised convolution: blur(image * mask) / blur(mask), so background
    pixels next to the face do not bleed into the average. ``weights``: the
    blurred mask (``mask_weights``), when the caller has it already.
    """
    if weights is None:
        weights = mask_weights(mask, sigma_px)
    channels = image.shape[2]
    weighted = image.astype(np.float32) * channels_of(mask, channels)
    blurred = cv2.GaussianBlur(weighted, (0, 0), sigma_px, borderType=cv2.BORDER_REPLICATE)
    return blurred / channels_of(weights, channels)


def mask_weights(mask: np.ndarray, sigma_px: float) -> np.ndarray:
    """The blurred mask that ``masked_lowpass`` divides by, (h, w)."""
    blurred = cv2.GaussianBlur(mask, (0, 0), sigma_px, borderType=cv2.BORDER_REPLICATE)
    return np.maximum(blurred, 1e-3)


def colour_gain(
    warped: np.ndarray, target: np.ndarray, mask: np.ndarray, sigma_px: float
) -> np.ndarray:
    """(h, w, 3) float32 gain that makes ``warped``'s local colour match ``target``'s.

    All three images share the analysis grid; ``mask`` is the face hull.
    """
    weights = mask_weights(mask, sigma_px)  # one mask, blurred once for both images
    src_mean = masked_lowpass(warped, mask, sigma_px, weights)
    dst_mean = masked_lowpass(target, mask, sigma_px, weights)
    # +1 keeps near-black pixels (pupils, nostrils) from producing huge ratios.
    gain = (dst_mean + 1.0) / (src_mean + 1.0)
    return np.clip(gain, *GAIN_RANGE).astype(np.float32, copy=False)


# Blurs run on a grid where the colour sigma is this many cells: the gain is
# that smooth anyway (fewer cells blur the hull edge and shift the tone), and
# a 24 px Gaussian on the 160 px grid cost ~15 ms.
SIGMA_CELLS = 8.0


def match_colour(
    warped: np.ndarray,
    target: np.ndarray,
    outline: np.ndarray,
    face_size: float,
    sigma: float,
    occluded: np.ndarray | None = None,
) -> np.ndarray:
    """Low-resolution gain field for full-size ``warped`` vs ``target`` crops.

    ``outline`` is the face outline in crop pixels, ``face_size`` in pixels and
    ``sigma`` a fraction of it. ``occluded`` (0..1, the crops' size): what
    covers the target's face (glasses), left out of both means, so a dark
    frame does not darken the skin round it. Upsample the result to apply it.
    """
    h, w = target.shape[:2]
    sigma_px = max(sigma * face_size, 1e-3)
    scale = min(1.0, SIGMA_CELLS / sigma_px)
    grid = (max(2, math.ceil(w * scale)), max(2, math.ceil(h * scale)))
    hard = hull_mask(outline, grid, (w / grid[0], h / grid[1]))
    if occluded is not None:
        hard = hard * (1.0 - cv2.resize(occluded, grid, interpolation=cv2.INTER_AREA))
    return colour_gain(shrink(warped, grid), shrink(target, grid), hard, sigma_px * scale)


def source_hue_factor(gain: np.ndarray, share: float, region: np.ndarray) -> np.ndarray:
    """Per-channel factor keeping ``share`` of the source's skin hue: the part of
    ``gain``'s mean over ``region`` (geometric, per channel) that differs between
    channels, undone by that share. Brightness and the light's pattern stay the
    target's: a face brighter or darker than its head reads as pasted."""
    if share <= 0:
        return np.ones(3, np.float32)
    if region.shape != gain.shape[:2]:
        region = cv2.resize(region, gain.shape[1::-1], interpolation=cv2.INTER_AREA)
    weights = region.astype(np.float32)
    weighted = np.log(gain) * channels_of(weights)
    # OpenCV's sum (in float64): numpy's over a colour image's two axes costs ~30x.
    mean_log = np.array(cv2.sumElems(weighted)[:3]) / max(float(weights.sum()), 1e-6)
    return np.exp(-share * (mean_log - mean_log.mean())).astype(np.float32, copy=False)


def keep_source(gain: np.ndarray, share: float) -> np.ndarray:
    """The gain that moves the source only ``1 - share`` of the way to the target's
    colour (geometrically: gain ** (1 - share)), keeping ``share`` of its own."""
    if share <= 0:
        return gain
    return np.power(gain, 1.0 - share, dtype=np.float32)
