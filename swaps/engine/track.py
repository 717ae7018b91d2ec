"""Following faces from frame to frame cheaply (for animated targets).

A full detection pass scans the whole frame; following a face costs a few ms:
the detector runs only on a small window around where the face should be (its
last box moved by its last motion), scaled so the face is ~80 px wide, and the
landmarks are placed from the box it finds. When it finds nothing there the
face is lost, and the caller runs a full detection pass: a face is never
pasted where the detector sees none.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from . import yunet
from .detect import Detection, place_points
from .images import shrink

WINDOW_FACE_PX = 80.0  # the face's width in the search window
WINDOW_MARGIN = 0.3  # the window reaches this many face widths beyond the predicted box
MIN_OVERLAP = 0.3  # intersection over union with the predicted box
# The face was confirmed when first found: in its own window a lower score
# still means it (a turned or blurred frame), not something else.
MIN_SCORE = 0.6


@dataclass(frozen=True)
class Track:
    """One followed face: its detection, points (``detect.place_points``) and last motion (px)."""

    rect: Detection
    landmarks: np.ndarray
    motion: tuple[float, float] = (0.0, 0.0)

    def predicted_rect(self) -> Detection:
        """Where the face should be in the next frame, if it keeps moving."""
        return self.rect.moved(*self.motion)


def overlap(a: Detection, b: Detection) -> float:
    """Intersection over union of two boxes."""
    iw = min(a.box[2], b.box[2]) - max(a.box[0], b.box[0])
    ih = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
    common = iw * ih if iw > 0 and ih > 0 else 0.0
    area = lambda d: (d.box[2] - d.box[0]) * (d.box[3] - d.box[1])  # noqa: E731
    union = area(a) + area(b) - common
    return float(common / union) if union > 0 else 0.0


def detect_near(image: np.ndarray, expected: Detection) -> Detection | None:
    """The detection in a small window around ``expected`` that overlaps it most."""
    side = max(expected.width, float(expected.box[3] - expected.box[1]), 1.0)
    pad = WINDOW_MARGIN * side
    height, width = image.shape[:2]
    x0, y0 = max(0, int(expected.box[0] - pad)), max(0, int(expected.box[1] - pad))
    x1, y1 = min(width, int(expected.box[2] + pad) + 1), min(height, int(expected.box[3] + pad) + 1)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    scale = min(2.0, WINDOW_FACE_PX / side)
    size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
    region = image[y0:y1, x0:x1]
    window = shrink(region, size) if scale < 1 else cv2.resize(region, size)
    factor = np.array([size[0] / (x1 - x0), size[1] / (y1 - y0)])
    found = [
        Detection(c.box + (x0, y0, x0, y0), c.score, c.points + (x0, y0))
        for c in (c.scaled(factor) for c in yunet.run(window, MIN_SCORE))
    ]
    best = max(found, key=lambda d: overlap(d, expected), default=None)
    return best if best is not None and overlap(best, expected) >= MIN_OVERLAP else None


def follow(image: np.ndarray, track: Track) -> Track | None:
    """The face of ``track`` in the next frame ``image``, or None if it is lost."""
    found = detect_near(image, track.predicted_rect())
    if found is None:
        return None
    dx, dy = found.centre - track.rect.centre
    return Track(found, place_points(image, found), (float(dx), float(dy)))
