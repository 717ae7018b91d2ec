"""Face detection (dlib HOG on a small working copy) and 68-point landmarks."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import cv2
import dlib
import numpy as np

from . import models
from .images import as_bgr, shrink

# HOG cost grows with the working copy's pixel count (about 110 ns per pixel
# here), so the copy gets a fixed budget: 640x480 keeps a full detection near
# 35 ms whatever the photo's size, and finds faces down to ~1/7 of its side.
WORK_PIXELS = 640 * 480
# dlib's HOG window finds faces of about 75 px; 2x upsampling reaches 40 px faces.
MAX_UPSCALE = 2.0
# dlib's HOG pyramid: each level is 5/6 the size of the one before (its
# pyramid_down<6>), down to 64 px. Faces at level k are (6/5)^k times larger.
LEVEL_STEP = 5 / 6
MIN_LEVEL_SIDE = 64
# A face is first seen at the coarsest level where it scores above zero; its
# best box lies at that level or the next finer one (the score rises, then
# falls), so one more level is scanned after a face is first seen.
REFINE_LEVELS = 1
# dlib's own non-maximum suppression: boxes overlap if their intersection is
# over 33% of their bounding rectangle or covers 78.8% of either box.
OVERLAP_IOU, OVERLAP_COVERED = 0.33, 0.788


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


def detection_scale(height: int, width: int, work_pixels: int = WORK_PIXELS) -> float:
    """Scale of the working copy: a fixed pixel budget, upsampling at most 2x.

    Images up to a quarter of the budget (320x240) are upsampled 2x so ~40 px
    faces are found; larger ones are resized to the budget, so a 29 MP photo
    costs the same as a 1 MP one.
    """
    return min(MAX_UPSCALE, math.sqrt(work_pixels / float(height * width)))


def _working_copy(image: np.ndarray, scale: float) -> np.ndarray:
    h, w = image.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if scale >= 0.5:
        # Up to 2x down a linear resize still reads every pixel's neighbourhood,
        # and costs 1 ms where INTER_AREA costs 10 ms on a 1 MP photo.
        small = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
    else:
        small = shrink(image, size)
    # Grayscale HOG is ~20% faster than colour and finds the same faces.
    return cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)


Detection = tuple[dlib.rectangle, float]
# The detector's own downsampling, so each level is what one pass would scan.
_PYRAMID = dlib.pyramid_down(6)


def _pyramid(image: np.ndarray, count: int = 0) -> list[np.ndarray]:
    """Levels 0 (``image``) to ``count`` - 1 (0: all) of dlib's HOG pyramid."""
    levels = [image]
    while count == 0 or len(levels) < count:
        smaller = _PYRAMID(levels[-1])
        if min(smaller.shape[:2]) < MIN_LEVEL_SIDE:
            break
        levels.append(smaller)
    return levels


def _scan_level(levels: list[np.ndarray], level: int, full_hw: tuple[int, ...]) -> list[Detection]:
    """HOG detections at one pyramid level, mapped to the full-size image."""
    detector = models.face_detector(1)
    with models.detector_lock:
        rects, scores, _ = detector.run(levels[level], 0, 0.0)
    sx, sy = levels[0].shape[1] / full_hw[1], levels[0].shape[0] / full_hw[0]
    found = []
    for rect, score in zip(rects, scores, strict=True):
        r = _PYRAMID.rect_up(rect, level) if level else rect
        # Not clipped to the image: the landmark model expects the box the
        # detector saw, even when a face runs off the edge.
        full = dlib.rectangle(
            round(r.left() / sx),
            round(r.top() / sy),
            round((r.right() + 1) / sx) - 1,
            round((r.bottom() + 1) / sy) - 1,
        )
        found.append((full, float(score)))
    return found


def overlaps(a: dlib.rectangle, b: dlib.rectangle) -> bool:
    """dlib's test for two detections of one face."""
    iw = min(a.right(), b.right()) - max(a.left(), b.left()) + 1
    ih = min(a.bottom(), b.bottom()) - max(a.top(), b.top()) + 1
    if iw <= 0 or ih <= 0:
        return False
    inner = iw * ih
    bw = max(a.right(), b.right()) - min(a.left(), b.left()) + 1
    bh = max(a.bottom(), b.bottom()) - min(a.top(), b.top()) + 1
    covered = inner / min(a.area(), b.area())
    return inner / (bw * bh) > OVERLAP_IOU or covered > OVERLAP_COVERED


def _depth(scale: float, level: int) -> float:
    """Where a pyramid level of a copy at ``scale`` sits on one axis for every
    copy, in (6/5)-steps of magnification: the higher, the smaller its faces."""
    return math.log(scale) / -math.log(LEVEL_STEP) - level


@dataclass
class _Sighting:
    """A face during the scan: its best box so far, and the depth and score it
    was first seen with, which rank it (shallower = larger face; at one depth a
    face that fits the level better scores higher)."""

    rect: dlib.rectangle
    score: float
    depth: float
    rank: tuple[float, float]


def _merge(found: list[_Sighting], detections: list[Detection], depth: float) -> bool:
    """Add one level's detections: new faces, or better boxes for faces first
    seen up to ``REFINE_LEVELS`` shallower (others are duplicates, dropped).
    True if a new face was seen."""
    new = False
    for rect, score in detections:
        seen = next((f for f in found if overlaps(rect, f.rect)), None)
        if seen is None:
            found.append(_Sighting(rect, score, depth, (depth, -score)))
            new = True
        elif depth - seen.depth <= REFINE_LEVELS + 1e-6 and score > seen.score:
            seen.rect, seen.score = rect, score
    return new


def _scan(
    image: np.ndarray, scale: float, count: int, need: int | None, found: list[_Sighting]
) -> bool:
    """Scan ``count`` levels (0: all) of a copy at ``scale``, coarsest first,
    adding to ``found``; with ``need``, stop ``REFINE_LEVELS`` after the level
    where that many faces have been seen. True if a face was first seen at the
    finest level: it may have smaller neighbours."""
    levels = _pyramid(_working_copy(image, scale), count)
    last: int | None = None  # the finest level still to scan, once enough faces are seen
    new_at_finest = False
    for level in range(len(levels) - 1, -1, -1):
        if last is not None and level < last:
            break
        new = _merge(found, _scan_level(levels, level, image.shape), _depth(scale, level))
        new_at_finest = new and level == 0
        if need is not None and last is None and len(found) >= need:
            last = level - REFINE_LEVELS
    return new_at_finest


def _scan_finer(image: np.ndarray, scale: float, need: int | None, found: list[_Sighting]) -> None:
    """Faces down to half the size: a copy at twice the scale (at most 2x
    upsampled), scanning only the levels above the first copy's."""
    bigger = min(MAX_UPSCALE, 2.0 * scale)
    if bigger > scale * 1.01:
        count = math.ceil(math.log(bigger / scale) / -math.log(LEVEL_STEP))
        _scan(image, bigger, count, need, found)


def find_face_boxes(
    image: np.ndarray,
    work_pixels: int = WORK_PIXELS,
    need: int | None = None,
    crowds: bool = True,
) -> list[Detection]:
    """HOG detections at full-resolution coordinates, largest first.

    The working copy's pyramid is scanned one level at a time, coarsest (the
    largest faces) first, so with ``need`` the scan stops soon after that many
    faces are seen. They come out exactly as in the full list, but smaller
    faces may be missing: the length is then only a lower bound of the face
    count. A portrait's face costs about a fifth of a full scan.

    A second copy at twice the scale looks for faces half as small when the
    first found none, or (``crowds``) when it found a face only at its finest
    level: faces in a group come in similar sizes, so one at the detection
    limit means others are likely just below it. It costs about one and a
    half scans more, only on such photos; a portrait's cost is unchanged.
    """
    scale = detection_scale(*image.shape[:2], work_pixels=work_pixels)
    found: list[_Sighting] = []
    at_limit = _scan(image, scale, 0, need, found)
    enough = need is not None and len(found) >= need
    if not found or (crowds and at_limit and not enough):
        _scan_finer(image, scale, need, found)
    found.sort(key=lambda f: f.rank)
    return [(f.rect, f.score) for f in found]


def place_landmarks(image: np.ndarray, rect: dlib.rectangle) -> np.ndarray:
    """68 landmarks at full resolution, as a (68, 2) float64 array.

    dlib reads the numpy array in place and only samples pixels near the box,
    so this costs ~2.5 ms whatever the photo's size. It averages the three channels,
    so BGR order does not matter.
    """
    shape = models.landmark_predictor()(image, rect)
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)


def _clip_box(rect: dlib.rectangle, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    h, w = shape[:2]
    x0, y0 = max(0, rect.left()), max(0, rect.top())
    x1, y1 = min(w, rect.right() + 1), min(h, rect.bottom() + 1)
    return x0, y0, max(0, x1 - x0), max(0, y1 - y0)


def detect_faces(
    image_bgr: np.ndarray, work_pixels: int = WORK_PIXELS, timer: Timer | None = None
) -> list[Face]:
    """Detect every face, largest first, each with its 68 landmarks at full resolution."""
    image = as_bgr(image_bgr)
    timer = timer or Timer()
    start = time.perf_counter()
    boxes = find_face_boxes(image, work_pixels)
    start = timer.add("detect", start)
    faces = [
        Face(box=_clip_box(r, image.shape), score=s, landmarks=place_landmarks(image, r))
        for r, s in boxes
    ]
    timer.add("landmarks", start)
    return faces
