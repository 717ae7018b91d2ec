"""YuNet-s: face boxes, scores and five points from one pass of a small CNN.

The network sees the image at any size (padded to a multiple of 32) and
predicts, on grids of stride 8, 16 and 32, a face score and a box with five
points (eyes, nose tip, mouth corners) per cell. This module runs it and
decodes the grids; choosing scales and thresholds is ``detect``'s job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from . import models

STRIDES = (8, 16, 32)
PAD_TO = 32
# Cells scoring below this are not even decoded: far below any face.
FLOOR = 0.3
# Two candidates are one face if they overlap this much (intersection over
# union), or if the smaller one lies this much inside the other (a partial box
# inside a big face's).
SAME_IOU, SAME_COVERED = 0.3, 0.7


_Scored = TypeVar("_Scored", bound=Any)


@dataclass(frozen=True)
class Candidate:
    """A possible face, in the coordinates of the image handed to ``run``."""

    box: np.ndarray  # x0, y0, x1, y1 (float)
    score: float
    points: np.ndarray  # (5, 2): right eye, left eye (as seen), nose tip, mouth corners

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])

    def scaled(self, factor: float | np.ndarray) -> Candidate:
        """The candidate in an image ``1 / factor`` times the size (per axis if a pair)."""
        f = np.broadcast_to(np.asarray(factor, dtype=np.float64), (2,))
        return Candidate(self.box / np.tile(f, 2), self.score, self.points / f)


def _blob(image: np.ndarray) -> np.ndarray:
    """BGR uint8 -> 1x3xHxW float32, zero-padded to a multiple of 32 (what YuNet takes)."""
    h, w = image.shape[:2]
    ph, pw = -(-h // PAD_TO) * PAD_TO, -(-w // PAD_TO) * PAD_TO
    blob = np.zeros((1, 3, ph, pw), dtype=np.float32)
    blob[0, :, :h, :w] = image.transpose(2, 0, 1)
    return blob


def _decode(
    outputs: dict[str, np.ndarray], shape: tuple[int, int], floor: float, n: int = 0
) -> list[Candidate]:
    """Candidates of batch item ``n`` over every stride's grid scoring ``floor`` or more."""
    ph, pw = shape
    found = []
    for stride in STRIDES:
        cols = pw // stride
        score = np.sqrt(
            np.clip(outputs[f"cls_{stride}"][n, :, 0], 0, 1)
            * np.clip(outputs[f"obj_{stride}"][n, :, 0], 0, 1)
        )
        keep = np.flatnonzero(score >= floor)
        if keep.size == 0:
            continue
        cell = np.stack([keep % cols, keep // cols], axis=1).astype(np.float64)
        bbox = outputs[f"bbox_{stride}"][n, keep].astype(np.float64)
        centre = (cell + bbox[:, :2]) * stride
        size = np.exp(bbox[:, 2:]) * stride
        kps = outputs[f"kps_{stride}"][n, keep].astype(np.float64).reshape(-1, 5, 2)
        points = (kps + cell[:, None, :]) * stride
        boxes = np.hstack([centre - size / 2, centre + size / 2])
        scores = score[keep]
        found += [Candidate(b, float(s), p) for b, s, p in zip(boxes, scores, points, strict=True)]
    return found


def same_face(a: np.ndarray, b: np.ndarray) -> bool:
    """Do boxes ``a`` and ``b`` (x0, y0, x1, y1) hold the same face?"""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return False
    inner = iw * ih
    area_a, area_b = (a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1])
    iou = inner / (area_a + area_b - inner)
    return iou > SAME_IOU or inner / min(area_a, area_b) > SAME_COVERED


def suppress(candidates: Sequence[_Scored]) -> list[_Scored]:
    """The best-scoring candidate of each face (anything with ``box`` and ``score``)."""
    kept: list[_Scored] = []
    for c in sorted(candidates, key=lambda c: -c.score):
        if not any(same_face(c.box, k.box) for k in kept):
            kept.append(c)
    return kept


def _outputs(blob: np.ndarray) -> dict[str, np.ndarray]:
    session = models.face_detector()
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, {"input": blob}), strict=True))


def run(image: np.ndarray, floor: float = FLOOR) -> list[Candidate]:
    """Every candidate face in a BGR uint8 image scoring ``floor`` or more, best first."""
    blob = _blob(image)
    return suppress(_decode(_outputs(blob), blob.shape[2:], floor))


def run_batch(images: list[np.ndarray], floor: float = FLOOR) -> list[list[Candidate]]:
    """``run`` on several images of one size in one call (one call's fixed cost)."""
    if not images:
        return []
    blob = np.concatenate([_blob(image) for image in images])
    outputs = _outputs(blob)
    return [suppress(_decode(outputs, blob.shape[2:], floor, n)) for n in range(len(images))]
