"""Hands in front of the target's face: MediaPipe's palm detector and hand landmarks.

A hand over a cheek or the chin is skin-coloured, so no rule on colour finds it
(in_front.py). Here two small networks do: the palm detector (an SSD, 192x192
input) on a square crop around the face, grown downwards where a hand over
the chin has its palm; then, for each palm, the hand-landmark network (224x224)
on a crop turned so the hand points up, which gives 21 points and a belief
that the crop shows a hand at all. A palm detector fires on faces (a face is a
skin-coloured blob with fingers' worth of features), so a hand is only kept
when the landmark network is sure of it and its 21 points have a hand's
proportions (``plausible``): a false find would leave a patch of the target on
the new face, far worse than a missed hand.

The mask (``hand_mask``) is the palm's polygon and each finger's bones as thick
segments, their width from the hand's own size, on the analysis grid.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from . import mesh, models
from .mesh import Roi

PALM_INPUT, HAND_INPUT = 192, 224
# The palm detector's anchors (MediaPipe's palm_detection_cpu graph): one
# 24x24 grid of stride 8 with 2 anchors a cell, then three layers of stride 16
# sharing a 12x12 grid, 2 anchors each: 2016 in all, of fixed unit size.
STRIDES = (8, 16, 16, 16)
PALM_SCORE = 0.5  # the detector's own threshold
NMS_IOU = 0.3
# The palm crop: a square FACE_SCALE times the face's extent (its 68 points'
# larger side), centred FACE_SHIFT extents below their centre: a hand over the
# chin has its palm and wrist below the face.
FACE_SCALE, FACE_SHIFT = 2.4, 0.35
# The hand crop from a palm (MediaPipe's rule): its box's larger side times
# ROI_SCALE, moved half a box towards the fingers, turned so the wrist->middle
# knuckle line points up.
ROI_SCALE, ROI_SHIFT = 2.6, 0.5
WRIST_KEY, MIDDLE_KEY = 0, 2  # the palm's keypoints that give the hand's direction
# The 21 points: the wrist, then thumb, index, middle, ring and pinky, four each
# (from the base to the tip).
WRIST = 0
FINGERS = tuple(tuple(range(1 + 4 * f, 5 + 4 * f)) for f in range(5))
PALM = (0, 1, 5, 9, 13, 17)
PRESENCE = 0.9  # see ``plausible`` and docs/benchmarks.md


@dataclass(frozen=True)
class Hand:
    points: np.ndarray  # (21, 3): x, y in image pixels, z (relative depth) in crop units
    presence: float  # the landmark network's belief that its crop shows a hand
    world: np.ndarray  # (21, 3): the hand in metres, about its centre (pose-free proportions)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -100.0, 100.0)))


def _anchors() -> np.ndarray:
    """(2016, 2) anchor centres in 0..1 of the palm crop, in the network's order:
    row by row, cell by cell, the anchors of all layers sharing a stride together."""
    centres = []
    for stride in sorted(set(STRIDES)):
        per_cell = 2 * STRIDES.count(stride)
        side = PALM_INPUT // stride
        y, x = np.mgrid[0:side, 0:side]
        cells = np.stack([(x.ravel() + 0.5) / side, (y.ravel() + 0.5) / side], axis=1)
        centres.append(np.repeat(cells, per_cell, axis=0))
    return np.concatenate(centres)


ANCHORS = _anchors()


def _square(centre: np.ndarray, side: float, up: np.ndarray) -> Roi:
    """A square crop of ``side`` at ``centre`` turned so ``up`` (a unit vector in the
    image) points up in it."""
    return Roi(float(centre[0]), float(centre[1]), float(side), math.atan2(up[0], -up[1]))


def _run(interpreter: Any, lock: threading.Lock, crop: np.ndarray) -> dict[str, np.ndarray]:
    """The network's outputs on one crop, by name (Identity, Identity_1, ...)."""
    with lock:
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], crop[None])
        interpreter.invoke()
        return {
            out["name"]: interpreter.get_tensor(out["index"]).copy()
            for out in interpreter.get_output_details()
        }


def face_square(landmarks: np.ndarray) -> Roi:
    """The palm detector's crop around a face of 68 ``landmarks`` (image pixels)."""
    lo, hi = landmarks.min(axis=0), landmarks.max(axis=0)
    extent = float((hi - lo).max())
    centre = (lo + hi) / 2 + (0.0, FACE_SHIFT * extent)
    return _square(centre, FACE_SCALE * extent, np.array([0.0, -1.0]))


@dataclass(frozen=True)
class Palm:
    box: np.ndarray  # (4,): centre x, y, width, height in image pixels
    keys: np.ndarray  # (7, 2): the palm's keypoints in image pixels
    score: float


def detect_palms(image: np.ndarray, square: Roi) -> list[Palm]:
    """Palms in the ``square`` crop of a BGR uint8 image, after weighted NMS."""
    crop, back = mesh.crop(image, square, PALM_INPUT)
    out = _run(models.palm_detector(), models.palm_lock, crop)
    raw, logits = out["Identity"][0], out["Identity_1"][0, :, 0]
    scores = _sigmoid(logits)
    keep = np.flatnonzero(scores > PALM_SCORE)
    if len(keep) == 0:
        return []
    values = raw[keep] / PALM_INPUT  # box centre offset, size, 7 keypoints: 0..1 of the crop
    centres = ANCHORS[keep]
    boxes = np.hstack([values[:, :2] + centres, values[:, 2:4]])
    keys = values[:, 4:].reshape(-1, 7, 2) + centres[:, None, :]
    palms = []
    for group, weights in _nms(boxes, scores[keep]):
        w = weights[:, None] / weights.sum()
        box = (boxes[group] * w).sum(axis=0) * PALM_INPUT
        key = (keys[group] * w[:, :, None]).sum(axis=0) * PALM_INPUT
        centre = box[:2] @ back[:, :2].T + back[:, 2]
        size = box[2:] * square.side / PALM_INPUT
        palms.append(
            Palm(np.r_[centre, size], key @ back[:, :2].T + back[:, 2], float(weights.max()))
        )
    return palms


def _nms(boxes: np.ndarray, scores: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """MediaPipe's weighted NMS: the best box and those overlapping it by over
    NMS_IOU form a group (averaged by score), and leave the pool."""
    order = list(np.argsort(-scores))
    groups = []
    while order:
        best = order[0]
        overlap = _iou(boxes[best], boxes[order])
        group = np.asarray(order)[overlap > NMS_IOU]
        groups.append((group, scores[group]))
        order = [i for i, o in zip(order, overlap, strict=True) if o <= NMS_IOU]
    return groups


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one (cx, cy, w, h) box with each of ``boxes``."""
    lo = np.maximum(box[:2] - box[2:] / 2, boxes[:, :2] - boxes[:, 2:] / 2)
    hi = np.minimum(box[:2] + box[2:] / 2, boxes[:, :2] + boxes[:, 2:] / 2)
    inter = np.prod(np.clip(hi - lo, 0, None), axis=1)
    union = np.prod(box[2:]) + np.prod(boxes[:, 2:], axis=1) - inter
    return inter / np.maximum(union, 1e-9)


def hand_square(palm: Palm) -> Roi:
    """The hand-landmark crop from a palm (MediaPipe's rule, ROI_SCALE, ROI_SHIFT)."""
    up = palm.keys[MIDDLE_KEY] - palm.keys[WRIST_KEY]
    up = up / max(float(np.linalg.norm(up)), 1e-6)
    size = float(palm.box[2:].max())
    return _square(palm.box[:2] + ROI_SHIFT * size * up, ROI_SCALE * size, up)


# MediaPipe's crop from a hand's own points: the wrist, the thumb's first three
# and each finger's first two, their extent along the hand times FRAME_SCALE,
# moved FRAME_SHIFT of it towards the fingers.
FRAME_POINTS = (0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18)
FRAME_SCALE, FRAME_SHIFT = 2.0, 0.1


def framed_square(points: np.ndarray) -> Roi:
    """The hand-landmark crop the 21 ``points`` (image pixels) call for."""
    up = points[9, :2] - points[WRIST, :2]
    up = up / max(float(np.linalg.norm(up)), 1e-6)
    right = np.array([-up[1], up[0]])
    local = points[list(FRAME_POINTS), :2] @ np.stack([right, up], axis=1)
    lo, hi = local.min(axis=0), local.max(axis=0)
    mid = (lo + hi) / 2
    side = float((hi - lo).max())
    centre = mid[0] * right + mid[1] * up + FRAME_SHIFT * side * up
    return _square(centre, FRAME_SCALE * side, up)


def landmarks(image: np.ndarray, palm: Palm) -> Hand:
    """The 21 points of the hand at ``palm``, in image pixels, and their presence."""
    return landmarks_in(image, hand_square(palm))


def landmarks_in(image: np.ndarray, square: Roi) -> Hand:
    """The 21 points of the hand in the ``square`` crop, and their presence."""
    crop, back = mesh.crop(image, square, HAND_INPUT)
    out = _run(models.hand_landmarker(), models.hand_lock, crop)
    local = out["Identity"].reshape(21, 3)
    xy = local[:, :2] @ back[:, :2].T + back[:, 2]
    presence = float(out["Identity_1"].ravel()[0])
    world = out["Identity_3"].reshape(21, 3).astype(np.float64)
    return Hand(np.hstack([xy, local[:, 2:]]).astype(np.float64), presence, world)


def find_hands(image: np.ndarray, face_landmarks: np.ndarray) -> list[Hand]:
    """Every hand the networks see round a face (68 ``face_landmarks``), unfiltered."""
    return [landmarks(image, palm) for palm in detect_palms(image, face_square(face_landmarks))]


def kept_hands(image: np.ndarray, face_landmarks: np.ndarray) -> list[np.ndarray]:
    """The (21, 2) points (image pixels) of each hand round a face (68
    ``face_landmarks``) that the landmark network is sure of, twice: on the
    palm's crop and again on the crop its own points call for (MediaPipe's
    tracking step), the points staying put, with a hand's proportions (``plausible``)."""
    iod = float(np.linalg.norm(face_landmarks[36:42].mean(0) - face_landmarks[42:48].mean(0)))
    kept = []
    for first in find_hands(image, face_landmarks):
        if first.presence < PRESENCE:
            continue  # most palms found on a bare face stop here
        again = landmarks_in(image, framed_square(first.points))
        if again.presence >= PRESENCE and plausible(first, again, iod):
            kept.append(again.points[:, :2])
    return kept


# A hand's proportions, on the network's metric hand: each finger's three bones
# together, and the palm's width (index to pinky knuckle), in palm lengths
# (wrist to the middle finger's knuckle); in the image, the palm's length in the
# face's eye distances (a hand in front of a face is about as near as it, or nearer).
FINGER_LENGTH, PALM_WIDTH, PALM_IOD = (0.3, 1.4), (0.35, 0.9), (0.3, 3.0)
# The points found twice (``kept_hands``) differ by at most this (median, palm lengths).
STABLE = 0.12


def plausible(first: Hand, again: Hand, iod: float) -> bool:
    """Does a hand found twice (``kept_hands``) stay put and have a hand's proportions?"""
    palm = float(np.linalg.norm(again.points[9, :2] - again.points[WRIST, :2]))
    moved = np.linalg.norm(again.points[:, :2] - first.points[:, :2], axis=1)
    if palm <= 0 or float(np.median(moved)) > STABLE * palm:
        return False
    world = again.world
    length = float(np.linalg.norm(world[9] - world[WRIST]))
    bones = [np.linalg.norm(np.diff(world[list(f)], axis=0), axis=1).sum() for f in FINGERS]
    width = float(np.linalg.norm(world[5] - world[17]))
    return (
        length > 0
        and all(FINGER_LENGTH[0] * length <= b <= FINGER_LENGTH[1] * length for b in bones)
        and PALM_WIDTH[0] * length <= width <= PALM_WIDTH[1] * length
        and PALM_IOD[0] * iod <= palm <= PALM_IOD[1] * iod
    )


# A finger's width (and the mask's segments') in palm lengths (wrist to the
# middle finger's knuckle); the forearm's stub below the wrist, its length and width.
FINGER_WIDTH, ARM_LENGTH, ARM_WIDTH = 0.3, 0.6, 0.9
# The hands must cover this much (iod^2) of the face's 68 points' hull, at least
# DEPTH eye distances inside it, to be kept: a hand beside the face changes nothing.
MIN_AREA, DEPTH = 0.05, 0.1
GROW_IOD, EDGE_SIGMA = 0.04, 1.0


def hand_mask(
    held: list[np.ndarray], face: np.ndarray, iod: float, shape_hw: tuple[int, ...]
) -> np.ndarray | None:
    """(h, w) float32 0..1: the ``held`` hands ((21, 2) points each) drawn on a
    grid of ``shape_hw``, grown and softened; None when together they cover
    under MIN_AREA of the ``face`` (its 68 points on that grid, ``iod`` between the eyes)."""
    drawn = np.zeros(shape_hw[:2], np.uint8)
    for points in held:
        _draw_hand(drawn, points)
    hull = np.zeros(shape_hw[:2], np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(face).astype(np.int32)), 1)
    deep = cv2.distanceTransform(hull, cv2.DIST_L2, 3) >= DEPTH * iod
    if np.count_nonzero(deep & (drawn > 0)) < MIN_AREA * iod * iod:
        return None
    grow = 2 * max(1, round(GROW_IOD * iod)) + 1
    grown = cv2.dilate(drawn, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow)))
    return np.minimum(cv2.GaussianBlur(grown.astype(np.float32), (0, 0), EDGE_SIGMA) * 1.5, 1.0)


def _draw_hand(out: np.ndarray, points: np.ndarray) -> None:
    """A hand into ``out`` (uint8, 1 inside): the palm's polygon, each finger's
    bones as segments FINGER_WIDTH palm lengths wide, a stub of forearm."""
    palm = float(np.linalg.norm(points[9] - points[WRIST]))
    width = max(1, round(FINGER_WIDTH * palm))
    cv2.fillPoly(out, [np.round(points[list(PALM)]).astype(np.int32)], 1)
    for finger in FINGERS:  # the thumb's first bone, from the wrist, is outside the palm
        chain = (WRIST, *finger) if finger == FINGERS[0] else finger
        cv2.polylines(out, [np.round(points[list(chain)]).astype(np.int32)], False, 1, width)
    down = points[WRIST] - points[9]
    elbow = points[WRIST] + ARM_LENGTH * down
    ends = [tuple(int(v) for v in np.round(p)) for p in (points[WRIST], elbow)]
    cv2.line(out, ends[0], ends[1], 1, max(1, round(ARM_WIDTH * palm)))
