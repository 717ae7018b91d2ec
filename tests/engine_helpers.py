"""Shared by the engine's tests: where faces are, what a swap changed, and the engine's CLI.

Masks are boolean HxW arrays; boxes are the engine's (x, y, w, h), clipped to the image.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

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
