"""Final compositing of the corrected source face into the target crop."""

from __future__ import annotations

import cv2
import numpy as np


def apply_gain(warped: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """``warped`` * ``gain`` (gain upsampled to full size), saturated to uint8."""
    h, w = warped.shape[:2]
    if gain.shape[:2] != (h, w):
        gain = cv2.resize(gain, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.multiply(warped, gain, dtype=cv2.CV_8U)


def blend(
    target: np.ndarray, face: np.ndarray, mask: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """target * (1 - mask) + face * mask, as a uint8 image: new, or ``out``
    (which may be ``target`` itself: each pixel only reads its own inputs).

    Where ``mask`` is 0 the target pixel comes back bit-exact (blendLinear
    computes t * 1 / (1 + 1e-5), which rounds back to t for any 8-bit value).
    """
    blended = cv2.blendLinear(target, face, 1.0 - mask, mask, dst=out)
    if out is not None and blended is not out:  # OpenCV allocated anew: copy it over
        out[...] = blended
    return blended if out is None else out
