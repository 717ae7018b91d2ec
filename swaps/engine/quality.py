"""Quality measures of a swap, for tests, benchmarks and offline evaluation.

Not used by ``swap`` itself; loading the recognition model costs ~0.3 s.
"""

from __future__ import annotations

import dlib
import numpy as np

from . import models
from .detect import Face

# dlib's recognition model: two photos of one person are usually closer than this.
SAME_PERSON = 0.6


def _crop_around(image: np.ndarray, face: Face) -> tuple[np.ndarray, np.ndarray]:
    """A crop with generous margins (the model aligns the face itself), as RGB."""
    pts = face.landmarks
    size = float(np.ptp(pts, axis=0).max())
    x0, y0 = np.maximum(0, np.floor(pts.min(axis=0) - size)).astype(int)
    x1, y1 = np.ceil(pts.max(axis=0) + size).astype(int)
    crop = image[y0:y1, x0:x1, ::-1]  # the model was trained on RGB
    return np.ascontiguousarray(crop), pts - (x0, y0)


def face_descriptor(image_bgr: np.ndarray, face: Face) -> np.ndarray:
    """dlib's 128-d face descriptor of ``face`` (found in ``image_bgr``)."""
    crop, pts = _crop_around(image_bgr, face)
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    rect = dlib.rectangle(int(x0), int(y0), int(x1), int(y1))
    shape = dlib.full_object_detection(rect, [dlib.point(int(x), int(y)) for x, y in pts])
    return np.asarray(models.face_encoder().compute_face_descriptor(crop, shape))


def identity_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance of two descriptors; below ``SAME_PERSON`` = same person."""
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))
