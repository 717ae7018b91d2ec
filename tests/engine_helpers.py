"""Shared by the engine's tests: where faces are, what a swap changed, and the engine's CLI.

Masks are boolean HxW arrays; boxes are the engine's (x, y, w, h), clipped to the image.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from swaps.engine import Face, detect_faces

REPO = Path(__file__).resolve().parents[1]
# What counts as "this face was swapped": the share of its box whose pixels changed.
CHANGED_SHARE = 0.3


def iou(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    return inter / float(aw * ah + bw * bh - inter)


def face_region(face: Face, shape: tuple[int, ...], grow: float = 0.3) -> np.ndarray:
    """Boolean mask: the face box grown by ``grow`` of its size on every side."""
    return face_regions([face], shape, grow)


def face_regions(faces: Iterable[Face], shape: tuple[int, ...], grow: float = 0.3) -> np.ndarray:
    """Boolean mask: the boxes of ``faces``, each grown by ``grow`` of its size per side."""
    region = np.zeros(shape[:2], dtype=bool)
    for face in faces:
        x, y, w, h = face.box
        dx, dy = int(w * grow), int(h * grow)
        region[max(0, y - dy) : y + h + dy, max(0, x - dx) : x + w + dx] = True
    return region


def changed(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    return np.any(before != after, axis=2)


def faces_changed(before: np.ndarray, after: np.ndarray) -> list[bool]:
    """For each face found in ``before`` (largest first): did pixels change in its box?"""
    diff = changed(before, after)
    return [
        bool(diff[face_region(face, before.shape, grow=0.0)].mean() > CHANGED_SHARE)
        for face in detect_faces(before)
    ]


def outside_faces_unchanged(before: np.ndarray, after: np.ndarray, grow: float = 0.6) -> bool:
    """Pixels away from every face of ``before`` (boxes grown by ``grow``) are bit-exact."""
    outside = ~face_regions(detect_faces(before), before.shape, grow)
    return not changed(before, after)[outside].any()


def only_faces_changed(before: np.ndarray, after: np.ndarray, indices: list[int]) -> bool:
    """Pixels outside faces ``indices`` are bit-exact; each of those faces changed."""
    diff = changed(before, after)
    faces = detect_faces(before)
    if diff[~face_regions([faces[k] for k in indices], before.shape)].any():
        return False
    return all(
        diff[face_region(faces[k], before.shape, grow=0.0)].mean() > CHANGED_SHARE for k in indices
    )


def run_engine_cli(*args: str | Path) -> subprocess.CompletedProcess:
    """``python -m swaps.engine ARGS`` from the repository root, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "swaps.engine", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )


def draw_glasses(image: np.ndarray, marks: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    """A copy of ``image`` wearing glasses: a rim round each eye and a bridge,
    lines 0.06 eye distances wide. Returns the image and the frames' core (bool)."""
    left, right = marks[36:42].mean(axis=0), marks[42:48].mean(axis=0)
    iod = float(np.linalg.norm(right - left))
    frames = np.zeros(image.shape[:2], np.uint8)
    axes = (round(0.45 * iod), round(0.34 * iod))
    width = max(3, round(0.06 * iod))
    for centre in (left, right):
        cv2.ellipse(
            frames, (round(centre[0]), round(centre[1] + 0.05 * iod)), axes, 0, 0, 360, 1, width
        )
    y = round((left[1] + right[1]) / 2 - 0.05 * iod)
    cv2.line(frames, (round(left[0] + axes[0]), y), (round(right[0] - axes[0]), y), 1, width)
    out = image.copy()
    out[frames > 0] = colour
    core = cv2.erode(frames, np.ones((3, 3), np.uint8)) > 0
    return out, core


# A dark-brown lock of hair, BGR.
HAIR_BROWN = (30, 45, 70)


def strand_points(marks: np.ndarray, n: int = 40) -> np.ndarray:
    """(n, 2) points of a lock of hair falling on the face's left (image) side: from
    above the forehead, down across it past the brow's outer end, over the temple
    beside the eye's outer corner, to outside the cheek (a quadratic B-spline)."""
    iod = float(np.linalg.norm(marks[36:42].mean(axis=0) - marks[42:48].mean(axis=0)))
    up = marks[17:27].mean(axis=0) - marks[48:68].mean(axis=0)
    up /= np.linalg.norm(up)
    out = marks[17] - marks[21]
    out /= np.linalg.norm(out)
    controls = [
        marks[21] + up * 0.9 * iod,
        marks[19] + up * 0.35 * iod,
        marks[18] * 0.5 + marks[36] * 0.5,
        marks[36] * 0.6 + marks[1] * 0.4,
        marks[2] + out * 0.3 * iod,
    ]
    per = n // (len(controls) - 2)
    curve = []
    for a, b, c in zip(controls, controls[1:], controls[2:], strict=False):
        p0, p2 = (a + b) / 2, (b + c) / 2  # a piece of a uniform quadratic B-spline
        t = np.linspace(0.0, 1.0, per)[:, None]
        curve.append((1 - t) ** 2 * p0 + 2 * (1 - t) * t * b + t**2 * p2)
    return np.vstack([controls[0][None], *curve, controls[-1][None]])


def draw_strand(image: np.ndarray, marks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A copy of ``image`` with a lock of hair (``strand_points``, 0.12 eye
    distances thick, ``HAIR_BROWN``) across the face's temple; and the lock (bool)."""
    iod = float(np.linalg.norm(marks[36:42].mean(axis=0) - marks[42:48].mean(axis=0)))
    lock = np.zeros(image.shape[:2], np.uint8)
    points = np.round(strand_points(marks)).astype(np.int32)
    cv2.polylines(lock, [points], False, 1, max(3, round(0.12 * iod)), cv2.LINE_AA)
    out = image.copy()
    out[lock > 0] = HAIR_BROWN
    return out, lock > 0
