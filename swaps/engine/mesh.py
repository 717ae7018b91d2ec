"""MediaPipe Face Mesh: 468 face points from a 192x192 crop, and a face-present score.

The network expects the face upright in the middle of its crop, about two
thirds of the crop across. The crop is a rotated square: centred on the face,
turned so the eyes lie level, 1.5 times the face's extent (MediaPipe's own
rule). ``fit`` places it from a detection's box and eyes, runs the network,
and when the points found call for a clearly different crop (the detector's
eye points are a few degrees off, say), runs it once more on that crop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from . import models

INPUT = 192
ROI_SCALE = 1.5
N_POINTS = 468
# Eye corners (outer) of the mesh: the crop's rotation comes from these.
RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 33, 263


@dataclass(frozen=True)
class Roi:
    """A rotated square: centre (x, y), side and angle (radians) in image pixels."""

    cx: float
    cy: float
    side: float
    angle: float

    def to_crop(self, size: int = INPUT) -> np.ndarray:
        """2x3 affine mapping image pixels onto the ``size`` x ``size`` crop."""
        scale = size / self.side
        c, s = math.cos(-self.angle) * scale, math.sin(-self.angle) * scale
        # rotate by -angle about the centre, scale, then move the centre to the crop's
        tx = size / 2 - (c * self.cx - s * self.cy)
        ty = size / 2 - (s * self.cx + c * self.cy)
        return np.array([[c, -s, tx], [s, c, ty]])


@dataclass(frozen=True)
class MeshFit:
    points: np.ndarray  # (468, 3): x, y in image pixels; z in pixels of the same scale
    presence: float  # 0..1: the network's belief that the crop shows a face


def roi_from_eyes(
    centre: np.ndarray, extent: float, right_eye: np.ndarray, left_eye: np.ndarray
) -> Roi:
    """The crop around a face of ``extent`` pixels at ``centre``, eyes level."""
    dx, dy = left_eye - right_eye
    return Roi(float(centre[0]), float(centre[1]), ROI_SCALE * extent, math.atan2(dy, dx))


def roi_from_points(points: np.ndarray) -> Roi:
    """MediaPipe's crop from a previous mesh: the points' extent measured along
    the eye line, centred on their bounding box in that frame."""
    eye = points[LEFT_EYE_OUTER, :2] - points[RIGHT_EYE_OUTER, :2]
    angle = math.atan2(eye[1], eye[0])
    c, s = math.cos(angle), math.sin(angle)
    local = points[:, :2] @ np.array([[c, -s], [s, c]])  # into the face's frame
    lo, hi = local.min(axis=0), local.max(axis=0)
    mid = (lo + hi) / 2
    centre = mid @ np.array([[c, s], [-s, c]])
    return Roi(float(centre[0]), float(centre[1]), ROI_SCALE * float((hi - lo).max()), angle)


def _infer(crop: np.ndarray) -> tuple[np.ndarray, float]:
    """The network on one RGB float crop: (468, 3) crop points and presence."""
    interpreter = models.face_mesh()
    with models.mesh_lock:
        inp = interpreter.get_input_details()[0]["index"]
        interpreter.set_tensor(inp, crop[None])
        interpreter.invoke()
        out = interpreter.get_output_details()
        points = interpreter.get_tensor(out[0]["index"]).reshape(N_POINTS, 3).copy()
        logit = float(interpreter.get_tensor(out[1]["index"]).ravel()[0])
    return points, 1.0 / (1.0 + math.exp(-logit))


def crop(image: np.ndarray, roi: Roi, size: int = INPUT) -> tuple[np.ndarray, np.ndarray]:
    """The ``roi`` of a BGR uint8 image as a network's input (RGB float 0..1,
    ``size`` square, black beyond the image) and its 2x3 map back to image pixels."""
    forward = roi.to_crop(size)
    pixels = cv2.warpAffine(
        image, forward, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
    )
    rgb = cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB).astype(np.float32) * (1.0 / 255.0)
    return rgb, cv2.invertAffineTransform(forward)


def run(image: np.ndarray, roi: Roi) -> MeshFit:
    """The mesh in the crop ``roi`` of a BGR uint8 image, in image coordinates."""
    rgb, back = crop(image, roi)
    local, presence = _infer(rgb)
    xy = local[:, :2] @ back[:, :2].T + back[:, 2]
    z = local[:, 2:] * (roi.side / INPUT)
    return MeshFit(np.hstack([xy, z]).astype(np.float64), presence)


# How far the crop may be from the one the mesh's own points frame before the
# mesh is run again on that one: rotation (radians), side and centre (shares of the side).
REFRAME_ANGLE, REFRAME_SIDE, REFRAME_SHIFT = math.radians(4.0), 0.06, 0.04


def off_frame(used: Roi, framed: Roi) -> bool:
    """Was the crop ``used`` far from ``framed``, the crop the points found call for?"""
    turn = abs((framed.angle - used.angle + math.pi) % (2 * math.pi) - math.pi)
    shift = math.hypot(framed.cx - used.cx, framed.cy - used.cy) / used.side
    return (
        turn > REFRAME_ANGLE
        or abs(framed.side / used.side - 1) > REFRAME_SIDE
        or shift > REFRAME_SHIFT
    )


def fit(image: np.ndarray, first: Roi, passes: int = 2) -> MeshFit:
    """The mesh from a first crop, re-framed on its own points up to ``passes - 1``
    times, each only while the crop was off (MediaPipe's tracking step)."""
    result = run(image, first)
    used = first
    for _ in range(passes - 1):
        framed = roi_from_points(result.points)
        if not off_frame(used, framed):
            break
        result, used = run(image, framed), framed
    return result
