"""The face model: 68 points (iBUG 300-W scheme), finer eyelid and lip points,
a forehead band and a frame, with a fixed triangulation of their mean shape.

Why a fixed triangulation: computing Delaunay per image (on the target points)
gives triangles that can fold over in the source when the two poses differ, can
change topology between near-identical photos, and needs point deduplication.
Triangulating the *mean* shape once gives the same, well-shaped triangles for
every face, so triangle i always covers the same part of the face in both
images, and it costs nothing per call.

Coordinates of the mean shape are in units of dlib's detection box (the box is
the unit square), so one unit is roughly the face width.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

N_LANDMARKS = 68
JAW = slice(0, 17)
BROWS = slice(17, 27)

# dlib's shape_predictor_68_face_landmarks.dat starts every regression from this
# shape (its serialised "initial_shape"): the mean of the iBUG 300-W training
# faces, normalised to the detection box.
MEAN_SHAPE_68 = np.array([
    (0.0294, 0.3219), (0.0326, 0.4464), (0.0459, 0.5704), (0.0718, 0.6920),
    (0.1203, 0.8050), (0.1947, 0.9029), (0.2858, 0.9846), (0.3863, 1.0502),
    (0.5000, 1.0697), (0.6137, 1.0502), (0.7142, 0.9846), (0.8053, 0.9029),
    (0.8797, 0.8050), (0.9282, 0.6920), (0.9541, 0.5704), (0.9674, 0.4464),
    (0.9706, 0.3219), (0.1192, 0.2309), (0.1775, 0.1784), (0.2598, 0.1627),
    (0.3451, 0.1749), (0.4249, 0.2081), (0.5751, 0.2081), (0.6550, 0.1749),
    (0.7402, 0.1627), (0.8225, 0.1784), (0.8809, 0.2309), (0.5000, 0.3055),
    (0.5000, 0.3857), (0.5000, 0.4652), (0.5000, 0.5470), (0.4045, 0.6023),
    (0.4504, 0.6192), (0.5000, 0.6337), (0.5497, 0.6192), (0.5955, 0.6023),
    (0.2139, 0.3156), (0.2647, 0.2863), (0.3259, 0.2872), (0.3794, 0.3276),
    (0.3221, 0.3378), (0.2612, 0.3370), (0.6207, 0.3276), (0.6742, 0.2872),
    (0.7353, 0.2863), (0.7862, 0.3156), (0.7388, 0.3370), (0.6780, 0.3378),
    (0.3171, 0.7511), (0.3844, 0.7242), (0.4525, 0.7103), (0.5000, 0.7220),
    (0.5475, 0.7103), (0.6156, 0.7242), (0.6829, 0.7511), (0.6178, 0.8169),
    (0.5516, 0.8460), (0.5000, 0.8515), (0.4484, 0.8460), (0.3823, 0.8169),
    (0.3452, 0.7547), (0.4519, 0.7499), (0.5000, 0.7550), (0.5481, 0.7499),
    (0.6548, 0.7547), (0.5490, 0.7857), (0.5000, 0.7916), (0.4510, 0.7857),
], dtype=np.float64)  # fmt: skip

# The 68 points stop at the top of the eyebrows. A band of forehead above them
# lets the mask seam run over skin instead of cutting through the brows.
FOREHEAD_LIFT = 0.12
# A loose frame around the head makes the piecewise-affine warp defined on the
# whole working crop, not just inside the landmarks' hull.
FRAME_BOX = (-0.45, -0.35, 1.45, 1.50)  # x0, y0, x1, y1


def _frame_points(box: tuple[float, float, float, float]) -> np.ndarray:
    x0, y0, x1, y1 = box
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    return np.array(
        [(x0, y0), (xm, y0), (x1, y0), (x1, ym), (x1, y1), (xm, y1), (x0, y1), (x0, ym)]
    )


# Eyelids and lips traced more finely than the 68 points do: Face Mesh points
# (``detect.MESH_DETAIL``) at their mean positions in the same units, measured on
# the 43 faces of ../shared/faces/multi; mesh points within 0.015 face widths of
# another point were left out (they would only make sliver triangles).
DETAIL_MEAN = np.array([
    (0.2293, 0.3204), (0.2950, 0.3015), (0.3572, 0.3101), (0.3639, 0.3356), (0.3064, 0.3444),
    (0.7607, 0.3138), (0.7381, 0.3060), (0.6409, 0.3103), (0.6338, 0.3356), (0.6928, 0.3440),
    (0.3347, 0.7208), (0.3877, 0.6962), (0.6027, 0.6962), (0.6680, 0.7201), (0.5957, 0.8184),
    (0.4004, 0.8178), (0.3687, 0.7272), (0.4184, 0.7264), (0.4526, 0.7287), (0.5382, 0.7285),
    (0.5762, 0.7262), (0.6354, 0.7266), (0.6317, 0.7530), (0.6105, 0.7612), (0.5778, 0.7700),
    (0.4180, 0.7698), (0.3901, 0.7613), (0.3723, 0.7532),
], dtype=np.float64)  # fmt: skip
N_DETAIL = len(DETAIL_MEAN)
# Which of the 68 points each detail point belongs with (right eye, left eye,
# mouth): a face known by its 68 points only gets its detail points from them.
DETAIL_REGIONS = ((slice(0, 5), slice(36, 42)), (slice(5, 10), slice(42, 48)),
                  (slice(10, N_DETAIL), slice(48, 68)))

FOREHEAD = slice(N_LANDMARKS, N_LANDMARKS + 10)
# Jaw below the cheekbones plus brows, eyes, nose and mouth. Outside it (but
# inside the outline) are the forehead band and the temples, where hair hangs.
INNER_FACE = np.r_[2:15, 17:N_LANDMARKS]
JAW_POINTS = np.arange(17)
# The points a shape morph moves: the 68 and the forehead band above the brows
# (it follows them). The frame stays, so the background does not move.
EXTRA_MEAN = np.vstack([MEAN_SHAPE_68[BROWS] - (0.0, FOREHEAD_LIFT), _frame_points(FRAME_BOX)])
DETAIL = slice(N_LANDMARKS + len(EXTRA_MEAN), N_LANDMARKS + len(EXTRA_MEAN) + N_DETAIL)
MORPHED = np.r_[0:N_LANDMARKS, FOREHEAD, DETAIL]
MEAN_SHAPE = np.vstack([MEAN_SHAPE_68, EXTRA_MEAN, DETAIL_MEAN])
# Outline of the swappable region: jaw line, then the forehead band right to left.
OUTLINE = np.r_[np.arange(17), np.arange(FOREHEAD.stop - 1, FOREHEAD.start - 1, -1)]


def delaunay(points: np.ndarray) -> np.ndarray:
    """Delaunay triangles of ``points`` as an (n, 3) array of point indices."""
    lo = points.min(axis=0) - 1.0
    hi = points.max(axis=0) + 1.0
    scale = 1000.0  # Subdiv2D works in float32 pixels; scale up to keep precision
    subdiv = cv2.Subdiv2D(
        (0, 0, int((hi - lo).max() * scale) + 1, int((hi - lo).max() * scale) + 1)
    )
    scaled = (points - lo) * scale
    for x, y in scaled:
        subdiv.insert((float(x), float(y)))
    triangles = []
    for t in subdiv.getTriangleList().reshape(-1, 3, 2):
        idx = [int(np.argmin(np.sum((scaled - p) ** 2, axis=1))) for p in t]
        # Triangles touching Subdiv2D's virtual outer vertices do not map to ours.
        if all(np.allclose(scaled[i], p, atol=1e-2) for i, p in zip(idx, t, strict=True)):
            triangles.append(sorted(idx))
    return np.array(sorted(triangles), dtype=np.int32)


TRIANGLES = delaunay(MEAN_SHAPE)


@dataclass(frozen=True)
class Similarity:
    """x' = a * x + b on complex numbers: rotation, uniform scale, translation."""

    a: complex
    b: complex

    @property
    def scale(self) -> float:
        return abs(self.a)

    def apply(self, points: np.ndarray) -> np.ndarray:
        c, s = self.a.real, self.a.imag
        return points @ np.array([[c, s], [-s, c]]) + (self.b.real, self.b.imag)

    def inverse(self) -> Similarity:
        return Similarity(1 / self.a, -self.b / self.a)


def fit_similarity(src: np.ndarray, dst: np.ndarray) -> Similarity:
    """Least-squares similarity mapping ``src`` points onto ``dst`` points.

    In complex numbers a = sum(d * conj(s)) / sum(|s|^2) over the centred
    points; written out in reals, which is faster for 68 points.
    """
    ms, md = src.mean(axis=0), dst.mean(axis=0)
    s, d = src - ms, dst - md
    norm = float(np.vdot(s, s))
    re = float(np.vdot(s, d)) / norm
    im = float(s[:, 0] @ d[:, 1] - s[:, 1] @ d[:, 0]) / norm
    a = complex(re, im)
    return Similarity(a, complex(md[0], md[1]) - a * complex(ms[0], ms[1]))


def face_fit(landmarks: np.ndarray) -> Similarity:
    """The mean face fitted to a face's 68 points (any detail points after them ignored)."""
    return fit_similarity(MEAN_SHAPE_68, landmarks[:N_LANDMARKS])


def detail_from_68(landmarks: np.ndarray) -> np.ndarray:
    """Detail points for a face known by its 68 points only (a saved face): the
    mean detail laid on each eye and the mouth by an affine fit of their points."""
    out = np.empty((N_DETAIL, 2))
    for detail, points in DETAIL_REGIONS:
        mean = np.hstack([MEAN_SHAPE_68[points], np.ones((points.stop - points.start, 1))])
        affine = np.linalg.lstsq(mean, landmarks[points], rcond=None)[0]
        out[detail] = np.hstack([DETAIL_MEAN[detail], np.ones((len(out[detail]), 1))]) @ affine
    return out


def extend_landmarks(
    landmarks: np.ndarray, forehead: float = FOREHEAD_LIFT
) -> tuple[np.ndarray, float]:
    """The engine's face model from 68 landmarks, or 68 plus ``N_DETAIL`` detail
    points (pixels): the 68, the forehead band and frame, then the detail points.

    ``forehead`` is how far above the brows the forehead band reaches, in face
    units. Returns the extended (N, 2) points and the face size in pixels (the
    scale of the mean shape fitted to the landmarks, about the face width).
    """
    base = landmarks[:N_LANDMARKS]
    fit = face_fit(base)
    extra = fit.apply(EXTRA_MEAN)
    # Anchor the forehead band on the real brows, lifted along the face's "up".
    up = fit.apply(np.array([[0.0, -forehead]])) - fit.apply(np.zeros((1, 2)))
    extra[: FOREHEAD.stop - N_LANDMARKS] = base[BROWS] + up
    has_detail = len(landmarks) == N_LANDMARKS + N_DETAIL
    detail = landmarks[N_LANDMARKS:] if has_detail else detail_from_68(base)
    return np.vstack([base, extra, detail]), fit.scale


def _keep_head(dst: np.ndarray, shape: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``shape`` with the similarity fitted from ``dst``'s 68 points to its own
    undone (on ``points``): the 68 points then map onto each other by the
    identity, i.e. same centroid, size and rotation; only proportions differ."""
    back = fit_similarity(dst[:N_LANDMARKS], shape[:N_LANDMARKS])
    out = shape.copy()
    out[points] = back.inverse().apply(shape[points])
    return out


def morph_towards(
    dst: np.ndarray,
    src: np.ndarray,
    amount: float,
    points: np.ndarray = MORPHED,
    max_move: float = np.inf,
) -> np.ndarray:
    """Move ``points`` of the extended ``dst`` shape ``amount`` of the way to the
    source's shape laid onto the target's head.

    0 keeps the target's geometry exactly; larger values keep more of the
    source's proportions, which the eye (and a face recogniser) reads as
    identity. The head itself does not move: the source's shape is aligned by
    a similarity, then put back to the target's centroid, size and rotation
    (``_keep_head``), and so is the result once the jaw line has been kept
    from moving inwards (``_jaw_not_inside``). No point moves more than
    ``max_move`` pixels: shapes that far apart differ mostly by pose or
    expression, not identity, so the whole move is scaled down.
    """
    if amount <= 0:
        return dst
    placed = fit_similarity(src[:N_LANDMARKS], dst[:N_LANDMARKS]).apply(src)
    goal = _keep_head(dst, placed, points)
    move = goal[points] - dst[points]
    amount = min(amount, max_move / max(float(np.linalg.norm(move, axis=1).max()), 1e-9))
    out = dst.copy()
    out[points] += amount * move
    return _keep_head(dst, _jaw_not_inside(out, dst), points)


def _jaw_not_inside(morphed: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Jaw points of ``morphed`` that moved towards the face's centre go back.

    A narrower source jaw would leave the target's own jaw line showing around
    the new face (a double outline); keeping the target's jaw there stretches
    the source's cheeks a little instead.
    """
    centre = dst[:N_LANDMARKS].mean(axis=0)
    radius = np.linalg.norm(dst[JAW_POINTS] - centre, axis=1)
    inward = np.linalg.norm(morphed[JAW_POINTS] - centre, axis=1) < radius
    out = morphed.copy()
    out[JAW_POINTS[inward]] = dst[JAW_POINTS[inward]]
    return out
