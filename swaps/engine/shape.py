"""The face model: 68 points (iBUG 300-W scheme), finer eyelid and lip points,
a forehead band and a frame, with a fixed triangulation of their mean shape.

Why a fixed triangulation: computing Delaunay per image (on the target points)
gives triangles that can fold over in the source when the two poses differ, can
change topology between near-identical photos, and needs point deduplication.
Triangulating the *mean* shape once gives the same, well-shaped triangles for
every face, so triangle i always covers the same part of the face in both
images, and it costs nothing per call.

Coordinates of the mean shape are in units of a face box (the box is the unit
square), so one unit is roughly the face width.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

N_LANDMARKS = 68
BROWS = slice(17, 27)

# The mean face in the 68-point scheme, in units of a face box (the box is the unit
# square): our own landmarks (Face Mesh vertices, detect.MESH_TO_68) of the 71
# swappable faces of the benchmark photos and the test fixtures, aligned by similarity,
# averaged and made mirror-symmetric.
MEAN_SHAPE_68 = np.array([
    (0.0503, 0.3421), (0.0512, 0.4337), (0.0629, 0.6217), (0.0843, 0.7113),
    (0.1288, 0.8161), (0.1816, 0.9051), (0.2958, 1.0055), (0.4162, 1.0683),
    (0.5000, 1.0776), (0.5838, 1.0683), (0.7043, 1.0055), (0.8185, 0.9051),
    (0.8712, 0.8161), (0.9157, 0.7113), (0.9371, 0.6217), (0.9488, 0.4338),
    (0.9497, 0.3421), (0.1346, 0.2218), (0.1773, 0.1864), (0.2413, 0.1676),
    (0.3214, 0.1719), (0.4099, 0.1823), (0.5901, 0.1823), (0.6787, 0.1719),
    (0.7587, 0.1676), (0.8228, 0.1864), (0.8655, 0.2218), (0.5000, 0.2887),
    (0.5000, 0.3844), (0.5000, 0.4750), (0.5000, 0.5324), (0.4040, 0.5890),
    (0.4483, 0.6136), (0.5000, 0.6158), (0.5518, 0.6136), (0.5960, 0.5890),
    (0.2239, 0.3222), (0.2716, 0.2904), (0.3212, 0.2893), (0.3787, 0.3232),
    (0.3324, 0.3323), (0.2658, 0.3327), (0.6213, 0.3232), (0.6788, 0.2893),
    (0.7284, 0.2904), (0.7761, 0.3223), (0.7342, 0.3327), (0.6676, 0.3323),
    (0.3171, 0.7440), (0.3623, 0.7239), (0.4459, 0.6962), (0.5000, 0.7033),
    (0.5541, 0.6962), (0.6377, 0.7239), (0.6829, 0.7440), (0.6455, 0.8110),
    (0.5531, 0.8399), (0.5000, 0.8453), (0.4469, 0.8399), (0.3545, 0.8110),
    (0.3316, 0.7440), (0.4521, 0.7356), (0.5000, 0.7369), (0.5480, 0.7356),
    (0.6684, 0.7440), (0.5476, 0.7933), (0.5000, 0.7989), (0.4524, 0.7933),
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
# the same faces; mesh points within 0.015 face widths of
# another point were left out (they would only make sliver triangles).
DETAIL_MEAN = np.array([
    (0.2884, 0.2872), (0.3536, 0.2973), (0.3609, 0.3260), (0.3007, 0.3349), (0.7684, 0.3026),
    (0.7459, 0.2935), (0.6458, 0.2982), (0.6382, 0.3264), (0.6993, 0.3351), (0.3895, 0.7058),
    (0.6082, 0.7054), (0.6730, 0.7287), (0.6003, 0.8219), (0.4012, 0.8219), (0.4197, 0.7366),
    (0.5804, 0.7362), (0.6368, 0.7576), (0.6155, 0.7648), (0.5825, 0.7726), (0.4185, 0.7728),
    (0.3883, 0.7653), (0.3689, 0.7584),
], dtype=np.float64)  # fmt: skip
N_DETAIL = len(DETAIL_MEAN)
# Which of the 68 points each detail point belongs with (right eye, left eye,
# mouth): a face known by its 68 points only gets its detail points from them.
DETAIL_REGIONS = (
    (slice(0, 4), slice(36, 42)),
    (slice(4, 9), slice(42, 48)),
    (slice(9, N_DETAIL), slice(48, 68)),
)

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
