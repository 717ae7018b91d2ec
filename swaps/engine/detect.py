"""Face detection (YuNet-s) and landmarks (MediaPipe Face Mesh, as 68 points).

Detection runs YuNet on two copies of the photo: a coarse one (~0.1 MP) for
faces up to the whole frame, and a fine one at half size (at most
``work_pixels``) for faces down to ~40 px. A candidate the network is sure of
is a face; a doubtful one is looked at again on a crop where it is 64 px
wide, with some of its surroundings: real faces gain confidence there, things
that only resemble one (a dog's face, a pattern) do not.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from . import mesh, yunet
from .images import as_bgr, shrink
from .yunet import same_face

# The fine copy's pixel budget: half size up to 6 MP photos, so every face of
# 40 px or more is seen at ~20 px, YuNet's floor. Larger photos are scanned at
# this budget (~50 ms): their smallest faces found grow as sqrt(pixels / 6 MP)
# (88 px on a 29 MP photo).
WORK_PIXELS = 1_500_000
FINE_SCALE = 0.5
# The coarse copy: the largest faces (YuNet is surest of faces of 30-250 px).
COARSE_PIXELS = 320 * 320
# Candidates below FLOOR are ignored; at or above SURE they are faces.
FLOOR = 0.5
SURE = 0.9
# A doubtful candidate is run again on a crop where it is RECHECK_PX wide, with
# RECHECK_MARGIN face widths of surroundings; it must then score CONFIRM.
# On the annotated group photos of the benchmarks (own size and on a 1000x1000 canvas) the doubtful
# real faces re-scored 0.896 or more, the dog faces of dogs.jpg 0.872 at most,
# other look-alikes 0.62 at most. The margin is thin: YuNet was trained on
# human faces only, and a frontal dog face is the closest thing to one.
RECHECK_PX = 64.0
RECHECK_MARGIN = 0.5
CONFIRM = 0.885


@dataclass(frozen=True)
class Detection:
    """One face found by the detector, in full-resolution pixels."""

    box: np.ndarray  # x0, y0, x1, y1 (float; may run past the image's edge)
    score: float
    points: np.ndarray  # (5, 2): right eye, left eye (as seen), nose tip, mouth corners

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])

    @property
    def centre(self) -> np.ndarray:
        return (self.box[:2] + self.box[2:]) / 2

    def moved(self, dx: float, dy: float) -> Detection:
        shift = np.array([dx, dy])
        return Detection(self.box + np.tile(shift, 2), self.score, self.points + shift)

    @classmethod
    def from_landmarks(cls, landmarks: np.ndarray, score: float = 0.0) -> Detection:
        """A detection placed from 68 landmarks (where the face was last seen)."""
        lo, hi = landmarks.min(axis=0), landmarks.max(axis=0)
        points = np.array(
            [
                landmarks[36:42].mean(axis=0),
                landmarks[42:48].mean(axis=0),
                landmarks[30],
                landmarks[48],
                landmarks[54],
            ]
        )
        return cls(np.concatenate([lo, hi]), score, points)

    def clipped(self, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
        """(x, y, w, h) inside an image of ``shape``."""
        h, w = shape[:2]
        x0, y0 = max(0, math.floor(self.box[0])), max(0, math.floor(self.box[1]))
        x1, y1 = min(w, math.ceil(self.box[2])), min(h, math.ceil(self.box[3]))
        return x0, y0, max(0, x1 - x0), max(0, y1 - y0)


@dataclass(frozen=True)
class Face:
    """One detected face, in full-resolution pixel coordinates of its image."""

    box: tuple[int, int, int, int]  # x, y, w, h
    score: float
    landmarks: np.ndarray = field(repr=False)  # (68, 2) float64, x and y

    @property
    def area(self) -> int:
        return self.box[2] * self.box[3]


@dataclass
class Timer:
    """Accumulates wall time per stage, in milliseconds."""

    ms: dict[str, float] = field(default_factory=dict)

    def add(self, stage: str, start: float) -> float:
        now = time.perf_counter()
        self.ms[stage] = self.ms.get(stage, 0.0) + (now - start) * 1000.0
        return now


def _as_detection(c: yunet.Candidate) -> Detection:
    return Detection(c.box, c.score, c.points)


def pass_scales(height: int, width: int, work_pixels: int = WORK_PIXELS) -> list[float]:
    """The scales of the copies scanned: the coarse one, then the fine one if finer."""
    pixels = float(height * width)
    coarse = min(1.0, math.sqrt(COARSE_PIXELS / pixels))
    fine = min(FINE_SCALE, math.sqrt(work_pixels / pixels))
    return [coarse, fine] if fine > coarse * 1.2 else [coarse]


def _scan(image: np.ndarray, scale: float) -> list[Detection]:
    h, w = image.shape[:2]
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        image = (
            cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
            if scale >= 0.5
            else shrink(image, size)
        )
        factor = (size[0] / w, size[1] / h)
    else:
        factor = (1.0, 1.0)
    found = yunet.run(image, FLOOR)
    return [_as_detection(c.scaled(np.asarray(factor))) for c in found]


def _square_crop(image: np.ndarray, d: Detection, face_px: float) -> np.ndarray:
    """A square around ``d`` reaching RECHECK_MARGIN face widths past it, scaled so
    the face is ``face_px`` wide in its middle (black where it leaves the image)."""
    scale = face_px / max(d.width, 1.0)
    side = round((1 + 2 * RECHECK_MARGIN) * face_px)
    reach = side / scale / 2
    cx, cy = d.centre
    h, w = image.shape[:2]
    x0, y0 = max(0, math.floor(cx - reach)), max(0, math.floor(cy - reach))
    x1, y1 = min(w, math.ceil(cx + reach)), min(h, math.ceil(cy + reach))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return np.zeros((side, side, 3), np.uint8)
    region = image[y0:y1, x0:x1]
    if scale < 0.5:  # average first: a linear warp would alias a big shrink
        size = (max(2, round((x1 - x0) * scale)), max(2, round((y1 - y0) * scale)))
        region = shrink(region, size)
    sx, sy = region.shape[1] / (x1 - x0), region.shape[0] / (y1 - y0)
    # region pixel -> square pixel: back to image pixels, then into the square
    warp = np.array(
        [[scale / sx, 0, (x0 - cx + reach) * scale], [0, scale / sy, (y0 - cy + reach) * scale]]
    )
    return cv2.warpAffine(
        region, warp, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
    )


def _rescored(image: np.ndarray, doubtful: list[Detection], face_px: float) -> list[float]:
    """YuNet's best score for each doubtful face on a crop where it is ``face_px`` wide."""
    crops = [_square_crop(image, d, face_px) for d in doubtful]
    side = crops[0].shape[0] if crops else 0
    scores = []
    for candidates in yunet.run_batch(crops, FLOOR):
        # The face sits in the middle of its crop, face_px wide.
        mid = (side - face_px) / 2
        expected = np.array([mid, mid, mid + face_px, mid + face_px])
        scores.append(max((c.score for c in candidates if same_face(c.box, expected)), default=0.0))
    return scores


def confirm(image: np.ndarray, candidates: list[Detection]) -> list[Detection]:
    """The faces among ``candidates``: sure at first sight, or confirmed on a closer look."""
    doubtful = [d for d in candidates if d.score < SURE]
    scores = _rescored(image, doubtful, RECHECK_PX)
    rejected = {id(d) for d, score in zip(doubtful, scores, strict=True) if score < CONFIRM}
    return [d for d in candidates if id(d) not in rejected]


def find_face_boxes(image: np.ndarray, work_pixels: int = WORK_PIXELS) -> list[Detection]:
    """Every face in a BGR uint8 image, largest first, at full-resolution coordinates."""
    candidates: list[Detection] = []
    for scale in pass_scales(*image.shape[:2], work_pixels=work_pixels):
        candidates += _scan(image, scale)
    faces = confirm(image, yunet.suppress(candidates))
    return sorted(faces, key=lambda d: -d.width)


# YuNet's box, framed as MediaPipe frames a face from its own points: the mesh's
# crop from a detection came out 1 / 0.934 times too big and 0.03 of its side too
# high (70 faces of the benchmarks' group photos and the fixtures), so one pass gives
# nearly what MediaPipe's second, re-framed pass gives.
BOX_TO_MESH_SIDE = 0.934
BOX_TO_MESH_DROP = 0.03


def mesh_roi(d: Detection) -> mesh.Roi:
    """The Face Mesh crop for a detection: eyes level, framed as the mesh frames itself."""
    extent = max(d.width, float(d.box[3] - d.box[1])) * BOX_TO_MESH_SIDE
    roi = mesh.roi_from_eyes(d.centre, extent, d.points[0], d.points[1])
    drop = BOX_TO_MESH_DROP * roi.side
    return mesh.Roi(
        roi.cx - drop * math.sin(roi.angle),
        roi.cy + drop * math.cos(roi.angle),
        roi.side,
        roi.angle,
    )


# The mesh vertex closest, on average, to each of the 68 points of the iBUG
# 300-W scheme the engine's face model uses (jaw, brows, nose, eyes, mouth),
# fitted on the 43 annotated faces of the benchmarks' group photos (0.072 inter-ocular
# distances mean error, jaw 0.11; midline points kept on the mesh's midline).
MESH_TO_68 = np.array([
    34, 227, 177, 215, 138, 136, 149, 148, 152, 377, 378, 365, 397, 435, 401, 447, 356,
    70, 63, 105, 66, 107, 336, 296, 334, 293, 300,
    168, 197, 5, 4, 240, 97, 2, 326, 305,
    7, 160, 158, 155, 153, 144, 382, 385, 386, 249, 373, 380,
    61, 40, 37, 0, 267, 304, 291, 321, 314, 17, 84, 106, 76, 38, 12, 268, 292, 316, 15, 86,
])  # fmt: skip


# Face Mesh vertices on the eyelids and lips beyond those among the 68 (the
# order of ``shape.DETAIL_MEAN``): the warp follows the eyes' and lips' contours.
MESH_DETAIL = np.array([
    159, 157, 154, 145, 388, 387, 384, 381, 374,
    39, 269, 409, 405, 181, 81, 311, 324, 318, 402, 178, 88, 95,
])  # fmt: skip
MESH_POINTS = np.concatenate([MESH_TO_68, MESH_DETAIL])


def place_points(image: np.ndarray, d: Detection) -> np.ndarray:
    """The face's 68 landmarks, then its ``shape.N_DETAIL`` eyelid and lip points,
    at full resolution: a (68 + N_DETAIL, 2) float64 array.

    The mesh network only sees a 192x192 crop, so a pass costs ~2 ms whatever
    the photo's size; a second pass runs only when the first crop was off.
    """
    return mesh.fit(image, mesh_roi(d), passes=2).points[MESH_POINTS, :2].copy()


def place_landmarks(image: np.ndarray, d: Detection) -> np.ndarray:
    """The face's 68 landmarks at full resolution, as a (68, 2) float64 array."""
    return place_points(image, d)[: len(MESH_TO_68)]


def detect_faces(
    image_bgr: np.ndarray, work_pixels: int = WORK_PIXELS, timer: Timer | None = None
) -> list[Face]:
    """Detect every face, largest first, each with its 68 landmarks at full resolution."""
    image = as_bgr(image_bgr)
    timer = timer or Timer()
    start = time.perf_counter()
    found = find_face_boxes(image, work_pixels)
    start = timer.add("detect", start)
    faces = [Face(d.clipped(image.shape), d.score, place_landmarks(image, d)) for d in found]
    timer.add("landmarks", start)
    return faces
