"""Input normalisation: whatever array we are handed becomes contiguous BGR uint8."""

from __future__ import annotations

import cv2
import numpy as np

from .errors import InvalidImageFormat


def as_bgr(image: object, name: str = "image") -> np.ndarray:
    """Return ``image`` as a C-contiguous HxWx3 uint8 BGR array.

    Grayscale (HxW or HxWx1) and BGRA inputs are converted; the input is never
    modified, and a BGR input that is already contiguous is returned as is.
    """
    if not isinstance(image, np.ndarray):
        raise InvalidImageFormat(f"the {name} image is not an array", {"image": name})
    if image.dtype != np.uint8:
        raise InvalidImageFormat(
            f"the {name} image must be 8-bit, got {image.dtype}",
            {"image": name, "dtype": str(image.dtype)},
        )
    channels = 1 if image.ndim == 2 else (image.shape[2] if image.ndim == 3 else 0)
    if channels not in (1, 3, 4) or min(image.shape[:2]) < 1:
        raise InvalidImageFormat(
            f"the {name} image has an unsupported shape {tuple(image.shape)}",
            {"image": name, "shape": list(image.shape)},
        )
    if channels == 1:
        return cv2.cvtColor(image.reshape(image.shape[:2]), cv2.COLOR_GRAY2BGR)
    if channels == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(image)


def shrink(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Downscale ``image`` to ``size`` (w, h) with area averaging, cheaply.

    INTER_AREA reads every source pixel (~130 ms on a 29 MP photo). For big
    factors a linear shrink to twice the target first, then AREA, costs a
    few ms and still averages away the aliasing a bare linear shrink leaves.
    """
    h, w = image.shape[:2]
    if (w, h) == tuple(size):
        return image
    if size[0] * 2 < w and size[1] * 2 < h:
        image = cv2.resize(image, (size[0] * 2, size[1] * 2), interpolation=cv2.INTER_LINEAR)
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)
