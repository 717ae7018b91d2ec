"""Following faces from frame to frame cheaply (for animated targets).

A full detection pass costs ~45 ms on a 480p frame; following a face costs a
few ms: the HOG detector runs only on a small window around where the face
should be (its last box moved by its last motion), scaled so the face is ~80 px
(the detector's window), and the landmarks are placed from the box it finds.
When it finds nothing there the face is lost, and the caller runs a full
detection pass: a face is never pasted where the detector sees none.

Measured on a drifting, zooming 50-frame clip against the true landmark
positions (a ~125 px face): 1.9 px mean error and 2.2 px frame-to-frame
jitter, better than a full-frame detection per frame (2.4 / 2.6: its boxes snap
to the HOG pyramid's scales). Placing landmarks from the predicted box and
confirming by the detector only every third frame saved ~2 ms a frame but
doubled both, and could paste a face onto a frame without one.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import dlib
import numpy as np

from . import models
from .detect import place_landmarks

WINDOW_FACE_PX = 80.0  # the face's width in the search window
WINDOW_MARGIN = 0.3  # the window reaches this many face widths beyond the predicted box
MIN_OVERLAP = 0.3  # intersection over union with the predicted box


@dataclass(frozen=True)
class Track:
    """One followed face: its detector box, 68 landmarks and last motion (px)."""

    rect: dlib.rectangle
    landmarks: np.ndarray
    motion: tuple[int, int] = (0, 0)

    def predicted_rect(self) -> dlib.rectangle:
        """Where the face should be in the next frame, if it keeps moving."""
        dx, dy = self.motion
        r = self.rect
        return dlib.rectangle(r.left() + dx, r.top() + dy, r.right() + dx, r.bottom() + dy)


def _centre(rect: dlib.rectangle) -> np.ndarray:
    return np.array([rect.left() + rect.right(), rect.top() + rect.bottom()]) / 2


def overlap(a: dlib.rectangle, b: dlib.rectangle) -> float:
    """Intersection over union of two boxes."""
    inter = a.intersect(b)
    common = inter.area() if inter.width() > 0 and inter.height() > 0 else 0
    union = a.area() + b.area() - common
    return common / union if union > 0 else 0.0


def detect_near(image: np.ndarray, expected: dlib.rectangle) -> dlib.rectangle | None:
    """The detection in a small window around ``expected`` that overlaps it most."""
    side = max(expected.width(), expected.height())
    pad = round(WINDOW_MARGIN * side)
    height, width = image.shape[:2]
    x0, y0 = max(0, expected.left() - pad), max(0, expected.top() - pad)
    x1, y1 = min(width, expected.right() + pad + 1), min(height, expected.bottom() + pad + 1)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    scale = min(2.0, WINDOW_FACE_PX / side)
    size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
    window = cv2.resize(image[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(window, cv2.COLOR_BGR2GRAY)
    with models.detector_lock:
        rects, _, _ = models.face_detector().run(gray, 0, 0.0)
    found = [
        dlib.rectangle(round(r.left() / scale) + x0, round(r.top() / scale) + y0,
                       round((r.right() + 1) / scale) + x0 - 1,
                       round((r.bottom() + 1) / scale) + y0 - 1)
        for r in rects
    ]
    best = max(found, key=lambda r: overlap(r, expected), default=None)
    return best if best is not None and overlap(best, expected) >= MIN_OVERLAP else None


def landmarks_near(image: np.ndarray, rect: dlib.rectangle) -> np.ndarray:
    """``place_landmarks`` on a crop around ``rect``: the model only looks near
    the box, and dlib's cost grows with the image it is handed."""
    pad = max(rect.width(), rect.height()) // 2 + 2
    height, width = image.shape[:2]
    x0, y0 = max(0, rect.left() - pad), max(0, rect.top() - pad)
    x1, y1 = min(width, rect.right() + pad + 1), min(height, rect.bottom() + pad + 1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return place_landmarks(image, rect)
    local = dlib.rectangle(rect.left() - x0, rect.top() - y0, rect.right() - x0, rect.bottom() - y0)
    return place_landmarks(np.ascontiguousarray(image[y0:y1, x0:x1]), local) + (x0, y0)


def follow(image: np.ndarray, track: Track) -> Track | None:
    """The face of ``track`` in the next frame ``image``, or None if it is lost."""
    found = detect_near(image, track.predicted_rect())
    if found is None:
        return None
    dx, dy = np.round(_centre(found) - _centre(track.rect)).astype(int)
    return Track(found, landmarks_near(image, found), (int(dx), int(dy)))
