"""Quality measures of a swap, for tests, benchmarks and offline evaluation.

Not used by ``swap`` itself; loading the recognition model costs ~0.3 s.

Every measure compares an output image with the target it was made from,
around the target face (its 68 landmarks); lengths are in units of the
target's inter-ocular distance (eye centre to eye centre), so they mean the
same on a 40 px face and on a 2000 px one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from . import halves
from .detect import Detection, Face, find_face_boxes, place_landmarks
from .mask import feature_mask
from .shape import FOREHEAD, INNER_FACE, extend_landmarks, fit_similarity
from .skin import REFERENCE, skin_likelihood
from .texture import GRAIN_MIN_SIGMA, band_level, octaves

# dlib's recognition model: two photos of one person are usually closer than this.
SAME_PERSON = 0.6
# A pixel "changed" when some channel moved by more than this many levels.
CHANGED_LEVELS = 12
# The face region the background measure leaves out: the landmark hull grown by this.
BACKGROUND_MARGIN = 0.6
# The seam ring: from this far inside the landmark hull to this far outside it.
RING_INSIDE, RING_OUTSIDE = 0.25, 0.5
# Local measures look at the face with the eyes at most this far apart (pixels).
WINDOW_IOD_PX = 64.0
# The inner face (for tone): the landmark hull shrunk about its centre.
INNER_SHRINK = 0.7
# The forehead measure looks this far above the brows (face units, as the
# engine's ``forehead`` option): past the engine's default band, so a taller
# band's hair counts too.
FOREHEAD_CHECK = 0.25


def identity_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance of two descriptors; below ``SAME_PERSON`` = same person."""
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))


def inter_ocular(landmarks: np.ndarray) -> float:
    """Distance between the two eye centres (points 36-41 and 42-47), pixels."""
    return float(np.linalg.norm(landmarks[36:42].mean(axis=0) - landmarks[42:48].mean(axis=0)))


def head_error(target: np.ndarray, output: np.ndarray) -> float:
    """How far the head moved: a similarity fit from the target's 68 landmarks to
    the output's; centroid shift / inter-ocular + |scale - 1| + |rotation (rad)|."""
    fit = fit_similarity(target, output)
    shift = float(np.linalg.norm(output.mean(axis=0) - target.mean(axis=0)))
    rotation = abs(math.atan2(fit.a.imag, fit.a.real))
    return shift / inter_ocular(target) + abs(fit.scale - 1.0) + rotation


def filled_hull(shape_hw: tuple[int, ...], points: np.ndarray) -> np.ndarray:
    out = np.zeros(shape_hw[:2], np.uint8)
    cv2.fillConvexPoly(out, cv2.convexHull(np.round(points).astype(np.int32)), 1)
    return out


def _signed_distance(shape_hw: tuple[int, ...], points: np.ndarray) -> np.ndarray:
    """Pixels from the landmark hull's edge: > 0 outside it, <= 0 inside.

    A distance transform costs the same for any radius, where a dilation by
    0.6 inter-ocular distances of a 29 MP photo's face takes seconds.
    """
    hull = filled_hull(shape_hw, points)
    outside = cv2.distanceTransform(1 - hull, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    inside = cv2.distanceTransform(hull, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return outside - inside


@dataclass(frozen=True)
class Window:
    """Both images cropped around the face and shrunk so the eyes are at most
    ``WINDOW_IOD_PX`` apart: local measures then judge every face at one scale
    (a seam is as visible on a 40 px face as on a 2000 px one) and cheaply."""

    target: np.ndarray
    output: np.ndarray
    landmarks: np.ndarray  # in window pixels
    iod: float  # in window pixels
    crop: tuple[slice, slice]  # of the full images

    @classmethod
    def around(
        cls,
        target: np.ndarray,
        output: np.ndarray,
        landmarks: np.ndarray,
        iod_px: float = WINDOW_IOD_PX,
    ) -> Window:
        iod = inter_ocular(landmarks)
        margin = max(RING_OUTSIDE, BACKGROUND_MARGIN) * iod + 4
        h, w = target.shape[:2]
        x0, y0 = np.maximum(0, np.floor(landmarks.min(axis=0) - margin)).astype(int)
        x1 = min(w, int(np.ceil(landmarks[:, 0].max() + margin)))
        y1 = min(h, int(np.ceil(landmarks[:, 1].max() + margin)))
        crop = slice(y0, y1), slice(x0, x1)
        scale = min(1.0, iod_px / iod)
        size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
        t, o = target[crop], output[crop]
        if scale < 1.0:
            t, o = (cv2.resize(im, size, interpolation=cv2.INTER_AREA) for im in (t, o))
        sx, sy = size[0] / (x1 - x0), size[1] / (y1 - y0)
        pts = (landmarks - (x0, y0) + 0.5) * (sx, sy) - 0.5
        return cls(t, o, pts, iod * scale, crop)

    def distance(self) -> np.ndarray:
        """Signed distance to the hull, in inter-ocular distances."""
        return _signed_distance(self.target.shape, self.landmarks) / self.iod


def changed_pixels(target: np.ndarray, output: np.ndarray) -> np.ndarray:
    """Boolean map: some channel differs by more than ``CHANGED_LEVELS``."""
    diff = cv2.absdiff(target, output)
    if diff.ndim == 3:
        diff = cv2.max(cv2.max(diff[..., 0], diff[..., 1]), diff[..., 2])
    return diff > CHANGED_LEVELS


def background_changed(target: np.ndarray, output: np.ndarray, landmarks: np.ndarray) -> float:
    """Share of the pixels outside the target's face hull (grown by
    ``BACKGROUND_MARGIN`` inter-ocular distances) that changed visibly."""
    win = Window.around(target, output, landmarks)
    t, o = target[win.crop], output[win.crop]
    distance = cv2.resize(win.distance(), t.shape[1::-1], interpolation=cv2.INTER_LINEAR)
    face = distance <= BACKGROUND_MARGIN
    changed = int(np.count_nonzero(changed_pixels(target, output)))
    changed -= int(np.count_nonzero(changed_pixels(t, o) & face))
    total = target.shape[0] * target.shape[1] - int(np.count_nonzero(face))
    return changed / total if total > 0 else 0.0


def edge_energy(image: np.ndarray) -> np.ndarray:
    """Squared gradient magnitude of the grey image (Sobel), float32.

    Squared, so a few strong new edges (a seam) weigh more than a general
    change of fine texture.
    """
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    return gx * gx + gy * gy


def seam_ratio(target: np.ndarray, output: np.ndarray, landmarks: np.ndarray) -> float:
    """Mean edge energy in a ring around the face hull, output over target.

    1.0 = the swap added no edges where a mask ends (a seam, a pasted outline).
    """
    win = Window.around(target, output, landmarks)
    distance = win.distance()
    ring = (distance <= RING_OUTSIDE) & (distance > -RING_INSIDE)
    before = float(edge_energy(win.target)[ring].mean())
    after = float(edge_energy(win.output)[ring].mean())
    return after / max(before, 1e-6)


def inner_face(shape_hw: tuple[int, ...], landmarks: np.ndarray) -> np.ndarray:
    """Boolean mask of the landmark hull shrunk by ``INNER_SHRINK`` about its centre."""
    c = landmarks.mean(axis=0)
    return filled_hull(shape_hw, (landmarks - c) * INNER_SHRINK + c) > 0


def mean_lab(image: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Mean CIE Lab colour (L 0..100) of the ``region`` pixels of a BGR image."""
    pixels = image[region].reshape(-1, 1, 3).astype(np.float32) / 255.0
    return cv2.cvtColor(pixels, cv2.COLOR_BGR2LAB).reshape(-1, 3).mean(axis=0)


def tone_difference(target: np.ndarray, output: np.ndarray, landmarks: np.ndarray) -> float:
    """CIE76 distance of the inner face's mean Lab colour, output vs target."""
    win = Window.around(target, output, landmarks)
    inner = inner_face(win.target.shape, win.landmarks)
    return float(np.linalg.norm(mean_lab(win.output, inner) - mean_lab(win.target, inner)))


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    iw = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / float(a[2] * a[3] + b[2] * b[3] - inter)


def face_at(image: np.ndarray, face: Face, min_iou: float = 0.3) -> tuple[Face, bool]:
    """The face of ``image`` where ``face`` was (found in a crop around it).

    Returns the detected face and True, or - when nothing is detected there -
    landmarks placed in ``face``'s box and False.
    """
    x, y, w, h = face.box
    x0, y0 = max(0, x - w), max(0, y - h)
    crop = np.ascontiguousarray(image[y0 : y + 2 * h, x0 : x + 2 * w])
    shifted = (x - x0, y - y0, w, h)
    best, best_iou = None, min_iou
    # Detect with the face ~100 px across, well inside the detector's range.
    budget = round(crop.shape[0] * crop.shape[1] * (100.0 / max(w, 1)) ** 2)
    for found in find_face_boxes(crop, work_pixels=budget):
        box = found.clipped(crop.shape)
        if _iou(box, shifted) > best_iou:
            best, best_iou = (found, box, found.score), _iou(box, shifted)
    if best is None:
        best = (Detection.from_landmarks(face.landmarks - (x0, y0)), shifted, 0.0)
    detection, box, score = best
    points = place_landmarks(crop, detection) + (x0, y0)
    found = Face((box[0] + x0, box[1] + y0, box[2], box[3]), score, points)
    return found, best_iou > min_iou


def lightness(image: np.ndarray) -> np.ndarray:
    """CIE L* (0..100) of a BGR uint8 image, float32."""
    lab = cv2.cvtColor(image.astype(np.float32) * (1.0 / 255), cv2.COLOR_BGR2LAB)
    return lab[..., 0]


def _inner_window(
    target: np.ndarray, output: np.ndarray, landmarks: np.ndarray
) -> tuple[Window, np.ndarray]:
    win = Window.around(target, output, landmarks)
    return win, inner_face(win.target.shape, win.landmarks)


def light_slope(
    lightness: np.ndarray, region: np.ndarray, centre: np.ndarray, iod: float
) -> np.ndarray:
    """(b, c) of the plane L* = a + b x + c y fitted over ``region``, x and y in
    inter-ocular distances from ``centre``: the light's direction and strength."""
    ys, xs = np.nonzero(region)
    design = np.column_stack([np.ones(len(xs)), (xs - centre[0]) / iod, (ys - centre[1]) / iod])
    coef = np.linalg.lstsq(design, lightness[ys, xs].astype(np.float64), rcond=None)[0]
    return coef[1:]


def shade_difference(target: np.ndarray, output: np.ndarray, landmarks: np.ndarray) -> float:
    """|(b, c) output - (b, c) target| of ``light_slope`` over the inner face, in L*
    per inter-ocular distance: a source's side light pasted in reads high."""
    win, inner = _inner_window(target, output, landmarks)
    if not inner.any():
        return 0.0
    centre = win.landmarks[:68].mean(axis=0)
    slopes = [light_slope(lightness(im), inner, centre, win.iod) for im in (win.target, win.output)]
    return float(np.linalg.norm(slopes[1] - slopes[0]))


def light_difference(
    target: np.ndarray, output: np.ndarray, landmarks: np.ndarray, whole_face: bool = False
) -> float:
    """RMS, mean removed, of the difference of L* blurred at a third of the
    inter-ocular distance (inside the inner face only), output vs target: a cast
    shadow or a hot spot carried over reads high. ``whole_face``: over the 68
    points' hull instead (outer cheeks, jaw, temples too), a diagnostic beside
    the issue's measure: the light steps read the light over the central face."""
    win, inner = _inner_window(target, output, landmarks)
    if whole_face:
        inner = filled_hull(win.target.shape, win.landmarks[:68]) > 0
    if not inner.any():
        return 0.0
    mask = inner.astype(np.float32)
    sigma = win.iod / 3.0
    weights = np.maximum(cv2.GaussianBlur(mask, (0, 0), sigma), 1e-3)
    blurred = [
        cv2.GaussianBlur(lightness(im) * mask, (0, 0), sigma) / weights
        for im in (win.target, win.output)
    ]
    diff = (blurred[1] - blurred[0])[inner]
    return float(np.sqrt(np.mean((diff - diff.mean()) ** 2)))


# Percentiles of the inner face's skin L* whose range is its relief, and the blur
# (a share of the inter-ocular distance) that leaves pores and noise out of it.
RELIEF_PERCENTILES = (5, 95)
RELIEF_BLUR_IOD = 1 / 6


def relief_excess(target: np.ndarray, output: np.ndarray, landmarks: np.ndarray) -> float:
    """How much wider the output's inner-face skin spreads its L* (blurred at
    RELIEF_BLUR_IOD; RELIEF_PERCENTILES range; eyes, brows, lips and nostrils left
    out) than the target's: a studio source's modelling (dark eye sockets, bright
    nose and chin) carried into a flat photo reads high; below 0, flatter than the target."""
    win, inner = _inner_window(target, output, landmarks)
    skin = inner & (feature_mask(win.landmarks[:68], inner.shape, win.iod) == 0)
    if skin.sum() < 16:
        return 0.0
    sigma = max(RELIEF_BLUR_IOD * win.iod, 0.5)
    spreads = [
        np.subtract(
            *np.percentile(
                cv2.GaussianBlur(lightness(im), (0, 0), sigma)[skin], RELIEF_PERCENTILES[::-1]
            )
        )
        for im in (win.target, win.output)
    ]
    return float(spreads[1] - spreads[0])


# A target cleaner than this (levels) is read as this clean: JPEG's own rounding.
GRAIN_FLOOR = 0.25


def grain_ratio(target: np.ndarray, output: np.ndarray, landmarks: np.ndarray) -> float:
    """The output's finest band (``texture``: the grey level minus its blur at
    0.8 px, a robust RMS) over the target's, on the inner face's skin (eyes,
    brows, lips and nostrils left out), at the photo's own pixels: below 1 the
    swapped face is smoother than the photo (a plastic oval), above 1 grainier."""
    x, y, w, h = cv2.boundingRect(np.round(landmarks[:68]).astype(np.int32))
    box = slice(max(y, 0), y + h), slice(max(x, 0), x + w)
    local = landmarks[:68] - (box[1].start, box[0].start)
    shape_hw = target[box].shape[:2]
    skin = inner_face(shape_hw, local) & (feature_mask(local, shape_hw, inter_ocular(local)) == 0)
    grey = (cv2.cvtColor(im[box], cv2.COLOR_BGR2GRAY) for im in (target, output))
    region = skin.astype(np.uint8)
    before, after = (band_level(octaves(g, [GRAIN_MIN_SIGMA])[0], region) for g in grey)
    return after / max(before, GRAIN_FLOOR)


def forehead_skin_lost(target: np.ndarray, output: np.ndarray, landmarks: np.ndarray) -> float:
    """Share of the forehead (from the brows to ``FOREHEAD_CHECK`` above them,
    within the face's width) that is skin in the target and is not in the
    output, skin judged against the target's cheeks and nose (``skin.py``): the
    source's hair pasted over the target's forehead, or a forehead of another
    colour or brightness than the face."""
    win = Window.around(target, output, landmarks)
    points, _ = extend_landmarks(win.landmarks, FOREHEAD_CHECK)
    top = np.vstack([points[17:27], points[FOREHEAD]])
    band = (filled_hull(win.target.shape, top) > 0) & ~(
        filled_hull(win.target.shape, points[INNER_FACE]) > 0
    )
    reference = filled_hull(win.target.shape, win.landmarks[REFERENCE]) > 0
    if band.sum() < 8 or reference.sum() < 8:
        return 0.0
    was, now = (skin_likelihood(im[band], win.target[reference]) for im in (win.target, win.output))
    return float(np.mean((was > 0.5) & (now <= 0.5)))


def half_mismatch(
    target: np.ndarray, output: np.ndarray, landmarks: np.ndarray
) -> halves.HalfMismatch:
    """The output face's two halves against the target's (``halves``): colour
    and texture contrast on the window (the face at one scale), noise at the
    photo's own pixels (on the 68 points' box, as ``grain_ratio``)."""
    win = Window.around(target, output, landmarks)
    x, y, w, h = cv2.boundingRect(np.round(landmarks[:68]).astype(np.int32))
    box = slice(max(y, 0), y + h), slice(max(x, 0), x + w)
    local = landmarks[:68] - (box[1].start, box[0].start)
    return halves.compare(
        (win.target, win.output),
        win.landmarks[:68],
        win.iod,
        (target[box], output[box], local, inter_ocular(local)),
    )
