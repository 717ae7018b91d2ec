"""Is a detected face fit to swap? Cut off by the border, turned away, too small.

Swapping such a face gives a broken picture (half a face pasted at the edge, a
frontal face stretched over a profile), so the engine refuses it with a reason
instead. Everything is judged from the 68 landmarks: no extra model, well under 1 ms.
"""

from __future__ import annotations

import cv2
import numpy as np

from .errors import FaceNotSwappable
from .shape import MEAN_SHAPE_68, N_LANDMARKS, Similarity, face_fit, fit_similarity

# Brows, eyes, nose and mouth: dlib places these well even on a cut face.
INNER = slice(17, N_LANDMARKS)
LEFT_EYE, RIGHT_EYE = slice(36, 42), slice(42, 48)
NOSE_TIP, LEFT_CHEEK, RIGHT_CHEEK = 30, 0, 16

# Share of the face area that may lie outside the image. Up to ~10% is a
# trimmed chin or ear and swaps fine; more leaves a visibly missing part.
MAX_OUTSIDE = 0.10
# Nose tip offset from the eye midpoint along the eye line, in inter-ocular
# distances: about 0.55 * tan(yaw), so 0.8 is ~55-65 degrees of yaw. Faces
# in the benchmarks' group photos and the fixtures reach 0.57 (a clear 3/4 view).
MAX_NOSE_OFFSET = 0.8
# The nose tip past the cheek outline (balance beyond +-1) is a profile:
# the far half of the face is hidden, there is nothing to put the source on.
MAX_BALANCE = 1.0
# About the face width in pixels (the mean shape's scale). The detector's
# floor is ~30 px, so this only stops degenerate landmark sets.
MIN_FACE_PX = 20.0
# A source face enlarged more than this many times (target face size over the
# source's) comes out visibly soft: the engine cleans and grains it, but no
# classical method brings back detail the photo never had. On the benchmark's
# contact sheet the pairs past ~4x are the ones that read as a blur at full size.
SOFT_ENLARGEMENT = 4.0


def _inner_fit(landmarks: np.ndarray) -> Similarity:
    """The mean face fitted to the inner features: where the whole face is,
    even where the image or the predictor's jaw line does not show it."""
    return fit_similarity(MEAN_SHAPE_68[INNER], landmarks[INNER])


def outside_fraction(
    landmarks: np.ndarray, shape_hw: tuple[int, ...], fit: Similarity | None = None
) -> float:
    """Share of the face (its outline, jaw and brows) lying outside the image.

    The outline is the mean face fitted to the inner features, not dlib's own
    jaw points: on a cut face the predictor pulls those inside the image (a
    face cut 25% shows 3% outside by its jaw points, 21% by the fitted outline).
    """
    fit = fit or _inner_fit(landmarks)
    hull = cv2.convexHull(fit.apply(MEAN_SHAPE_68).astype(np.float32))
    area = cv2.contourArea(hull)
    if area <= 0:
        return 1.0
    h, w = shape_hw[:2]
    frame = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    inside, _ = cv2.intersectConvexConvex(hull, frame)
    return float(min(1.0, max(0.0, 1.0 - inside / area)))


def turn_cues(landmarks: np.ndarray) -> tuple[float, float]:
    """(nose offset, outline balance): two signed yaw cues, 0 for a frontal face.

    Measured along the eye line, so in-plane rotation (a tilted head) does not
    count. Offset: nose tip from the eye midpoint / inter-ocular distance.
    Balance: (left - right) / (left + right) of the nose tip's distances to the
    cheek outline at eye level; +-1 puts the nose tip on the outline.
    """
    left, right = landmarks[LEFT_EYE].mean(axis=0), landmarks[RIGHT_EYE].mean(axis=0)
    span = float(np.linalg.norm(right - left))
    if span < 1e-6:
        return np.inf, np.inf
    axis = (right - left) / span
    nose = landmarks[NOSE_TIP]
    offset = float(np.dot(nose - (left + right) / 2, axis)) / span
    to_left = float(np.dot(nose - landmarks[LEFT_CHEEK], axis))
    to_right = float(np.dot(landmarks[RIGHT_CHEEK] - nose, axis))
    width = to_left + to_right
    balance = (to_left - to_right) / width if width > 1e-6 else np.inf
    return offset, balance


def face_size(landmarks: np.ndarray) -> float:
    """About the face width in pixels: the scale of the mean face fitted to it."""
    return face_fit(landmarks).scale


def unswappable_reason(landmarks: np.ndarray, shape_hw: tuple[int, ...]) -> str | None:
    """Why the face with these landmarks should not be swapped, or None."""
    fit = _inner_fit(landmarks)
    if fit.scale < MIN_FACE_PX:
        return "too_small"
    if outside_fraction(landmarks, shape_hw, fit) > MAX_OUTSIDE:
        return "cut_off"
    offset, balance = turn_cues(landmarks)
    if abs(offset) > MAX_NOSE_OFFSET or abs(balance) > MAX_BALANCE:
        return "turned_away"
    return None


def enlargement_warning(
    src_landmarks: np.ndarray, dst_landmarks: np.ndarray, source: int, target: int
) -> dict[str, object] | None:
    """A warning for the job's facts when source face ``source`` must be enlarged
    more than ``SOFT_ENLARGEMENT`` times to fit target face ``target``, else None."""
    scale = face_size(dst_landmarks) / max(face_size(src_landmarks), 1e-6)
    if scale <= SOFT_ENLARGEMENT:
        return None
    return {
        "code": "source_face_enlarged",
        "source": int(source),
        "target": int(target),
        "scale": round(float(scale), 1),
        "message": (
            f"The source face is enlarged {scale:.1f}x to fit the target face, so the new face "
            "looks soft; a photo where the source face is larger gives a sharper result."
        ),
    }


def check_swappable(
    landmarks: np.ndarray, shape_hw: tuple[int, ...], image: str, index: int
) -> None:
    """Raise FaceNotSwappable (naming the image and face index) if it is not."""
    reason = unswappable_reason(landmarks, shape_hw)
    if reason is not None:
        raise FaceNotSwappable(image, index, reason)
