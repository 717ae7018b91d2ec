"""The target's light on the source's face: side light taken out, the target's put in.

A face is close to mirror-symmetric in what it is made of (skin, features),
so where one half is darker than the other the difference is light: a side
light, its shadow edge down the nose, a hot spot on one cheek. Mirroring a
face onto itself through its landmarks (an affine taking each point to its
mirror partner, so the pose is followed, not the image's axis) and comparing gives, in log
luminance, the light's antisymmetric part:

    asym(x) = (log L(x) - log L(mirror(x))) / 2

The swap removes the source's and adds the target's: the warped source is
multiplied by exp(asym_target - asym_source). Both are measured on the
analysis grid, where both faces are laid on the target's landmarks. What is
symmetric in the light (top-down falloff, overall level) is left to the colour
match's low band (``colour.py``). Asymmetric features of a face (a mole, make-up
on one side) read as light only at the scale the map is smoothed to, and the
map is bounded, so they are softened, never removed.

Both maps are smoothed at a quarter of the inter-ocular distance, except where
the light is strong or the source's map is steep (``light_map``): there the
light's shape is finer than that (a shadow cast by the nose, the cheek lit up
beside it, a shadow's edge down the nose), and a map that smooth would leave a
dark band along the shadow's edge and a hot spot past it. There the map is
taken much finer, so a shadow is lifted, or laid, up to its edge.
"""

from __future__ import annotations

import cv2
import numpy as np

from . import regions, shape

# Mirror partner of each of the 68 points (iBUG 300-W numbering).
MIRROR_68 = np.array([
    *range(16, -1, -1), *range(26, 16, -1), 27, 28, 29, 30, 35, 34, 33, 32, 31,
    45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40,
    54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55, 64, 63, 62, 61, 60, 67, 66, 65,
])  # fmt: skip
N_MIRRORED = shape.N_LANDMARKS
# The light map is smoothed at this share of the inter-ocular distance: enough
# to ignore a landmark's error, little enough to keep a shadow's edge.
SMOOTH_IOD = 0.25
WORK_IOD_PX = 32.0
# The correction fades out over this share of the inter-ocular distance at the hull.
FADE_IOD = 0.1
# At most this factor either way: a map this strong is a shadow, not a mole.
MAX_GAIN = 2.5


def log_luminance(image: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    return np.log(grey + 4.0)  # +4: dark pixels (pupils) do not dominate


def mirror_affine(points: np.ndarray) -> np.ndarray:
    """2x3 affine taking each of the 68 points (least squares) to its mirror
    partner: pixel x of the face sits where pixel ``A @ x`` mirrors it.

    An affine follows the face's pose (a tilted or turned head's axis), which is
    what matters for a map this smooth; a piecewise mirror through every
    triangle gave shade 3.02 against 3.19 on the benchmark, for 1 ms a face.
    The light map and ``lifted``'s two steps read it on one work grid: the
    same points are solved once a face (``regions.once``, ~0.07 ms a solve).
    """
    own = np.ascontiguousarray(points[:N_MIRRORED], dtype=np.float64)
    return regions.once(("mirror_affine", own.tobytes()), lambda: _mirror_affine(own))


def _mirror_affine(points: np.ndarray) -> np.ndarray:
    src = np.hstack([points, np.ones((N_MIRRORED, 1))])
    affine = np.linalg.lstsq(src, points[MIRROR_68], rcond=None)[0].T
    affine.flags.writeable = False  # shared by the steps of one face
    return affine


def mirrored(
    image: np.ndarray, points: np.ndarray, border: int = cv2.BORDER_REPLICATE
) -> np.ndarray:
    """``image`` mirrored onto itself through the face on its ``points``
    (``mirror_affine``): each pixel takes its mirror partner's value."""
    size = (image.shape[1], image.shape[0])
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    return cv2.warpAffine(image, mirror_affine(points), size, flags=flags, borderMode=border)


def light_gain(
    source: np.ndarray, target: np.ndarray, points: np.ndarray, region: np.ndarray, iod_px: float
) -> np.ndarray:
    """(h, w) float32 gain taking the source's side light out and putting the
    target's in, inside ``region`` (the face's hull, 0/1) and fading to 1 outside it.

    ``source`` (warped) and ``target`` share one grid, with the face on ``points``,
    so one mirror map serves both.
    """
    return light_maps(source, target, points, region, iod_px)[0]


def light_maps(
    source: np.ndarray, target: np.ndarray, points: np.ndarray, region: np.ndarray, iod_px: float
) -> tuple[np.ndarray, np.ndarray]:
    """``light_gain``, and the source's own light map as smoothed on the work
    grid (log, WORK_IOD_PX between the eyes; negative where it is darker than
    its mirror half): ``lifted`` reads a shadow's depth there."""
    h, w = target.shape[:2]
    # The light map is smooth: it is measured on a grid of about WORK_IOD_PX
    # between the eyes and upsampled.
    scale = min(1.0, WORK_IOD_PX / max(iod_px, 1e-6))
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    sx, sy = size[0] / w, size[1] / h
    small = [cv2.resize(im, size, interpolation=cv2.INTER_LINEAR) for im in (source, target)]
    logs = cv2.merge([log_luminance(im) for im in small])
    local = (points + 0.5) * (sx, sy) - 0.5
    asym = (logs - mirrored(logs, local)) * 0.5
    sigma = max(SMOOTH_IOD * iod_px * sx, 0.5)
    iod = iod_px * sx
    own = cv2.GaussianBlur(asym[..., 0], (0, 0), sigma)
    change = light_map(asym[..., 1], sigma, iod) - light_map(
        asym[..., 0], sigma, iod, edges=True, smooth=own
    )
    fade = cv2.GaussianBlur(
        cv2.resize(region, size, interpolation=cv2.INTER_LINEAR),
        (0, 0),
        max(FADE_IOD * iod_px * sx, 0.5),
    )
    change = cv2.resize(change * fade, (w, h), interpolation=cv2.INTER_LINEAR)
    bound = float(np.log(MAX_GAIN))
    return np.exp(np.clip(change, -bound, bound)).astype(np.float32, copy=False), own


# Where a map is strong (its smooth value, log: from the first on, fully from
# the second), or the source's smooth map is steep (log luminance per
# inter-ocular distance, likewise), the light changes faster than the smooth map
# follows and the map is taken at SHARP_IOD instead. Elsewhere the smooth map
# stays: a finer one there carries the face's own asymmetries (features, not
# light), which the recogniser reads. The switch is itself smoothed over
# SPREAD_IOD, so it draws no line of its own. Strength decides for the target
# too (a target's sharp shadow down the nose is laid on the new face); a steep
# but weak map does not (its edges are mostly features). Over the benchmark's
# pairs the strength gate cost no identity at 0.3-0.5 (0.25-0.45 gave held-out
# d_src 0.400; docs/benchmarks.md).
STRONG = (0.3, 0.5)
STEEP = (0.2, 0.6)
SHARP_IOD = 0.06
SPREAD_IOD = 0.1


def light_map(
    asym: np.ndarray,
    sigma: float,
    iod_px: float,
    edges: bool = False,
    smooth: np.ndarray | None = None,
) -> np.ndarray:
    """A light map (``asym``, log, on a grid with ``iod_px`` between the eyes)
    smoothed at ``sigma`` (``smooth``, if the caller has it), and at SHARP_IOD
    where it is strong (STRONG) or, with ``edges``, steep (STEEP)."""
    if smooth is None:
        smooth = cv2.GaussianBlur(asym, (0, 0), sigma)
    weight = _ramp(np.abs(smooth), STRONG)
    if edges:
        # Sobel's 3x3 derivative is 8x the slope per pixel.
        gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3)
        slope = cv2.magnitude(gx, gy) * np.float32(iod_px / 8)
        weight = np.maximum(weight, _ramp(slope, STEEP))
    weight = cv2.GaussianBlur(weight, (0, 0), max(SPREAD_IOD * iod_px, 0.5))
    sharp = cv2.GaussianBlur(asym, (0, 0), max(SHARP_IOD * iod_px, 0.5))
    return smooth + weight * (sharp - smooth)


def _ramp(values: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    lo, hi = bounds
    return np.clip((values - lo) * np.float32(1 / (hi - lo)), 0.0, 1.0)


# The shadow's residue: where the source was in a strong shadow (darker than its
# mirror half by RESIDUE_GATE, log, the halves' difference halved), what the
# light map left darker than the target's own light (a shadow's edge along the
# nose: finer than the map's grid and its mirror's error) is lifted, never
# darkened, by at most RESIDUE_MAX, read at RESIDUE_IOD; the features, grown by
# FEATURE_GROW_IOD, keep their own darkness. The shared pair's selfie -> base:
# light 1.79 -> 1.61 (whole face 1.73 -> 1.39); the benchmark unchanged.
RESIDUE_GATE = (0.3, 0.5)
RESIDUE_MAX = 1.6
RESIDUE_IOD = 0.025
FEATURE_GROW_IOD = 0.04


def shadow_residue_gain(
    lit: np.ndarray,
    source: np.ndarray,
    target: np.ndarray,
    points: np.ndarray,
    skin: np.ndarray,
    iod_px: float,
) -> np.ndarray:
    """(h, w) float32 gain >= 1 lifting what is left of a strong source shadow
    on ``lit`` (the warped source after ``light_gain``) beyond the target's own
    light, on ``skin`` (0..1: the face's hull without its features) only; all
    on one grid, the face on ``points``."""
    lit = np.clip(lit, 0, 255).astype(np.uint8)
    logs = cv2.merge([log_luminance(im) for im in (lit, source, target)])
    asym = (logs - mirrored(logs, points)) * 0.5
    fine = cv2.GaussianBlur(asym, (0, 0), max(RESIDUE_IOD * iod_px, 0.5))
    strong, left = -fine[..., 1], fine[..., 2] - fine[..., 0]
    lift = np.clip(left, 0.0, float(np.log(RESIDUE_MAX))) * _ramp(strong, RESIDUE_GATE) * skin
    return np.exp(lift).astype(np.float32, copy=False)


# The plane's correction is bounded (log gain): it turns a face's light, it
# does not paint a shadow.
PLANE_BOUND = 0.35


def brightness_plane(
    grey: np.ndarray, weights: np.ndarray, x: np.ndarray, y: np.ndarray
) -> np.ndarray:
    """(a, b, c) of the weighted least-squares plane grey = a + b x + c y, with
    ``x`` the columns' and ``y`` the rows' coordinates (1-D): every moment is
    a row or column sum, or one product with them."""
    cols, rows = weights.sum(axis=0), weights.sum(axis=1)
    weighted = weights * grey
    g_cols, g_rows = weighted.sum(axis=0), weighted.sum(axis=1)
    normal = np.array([
        [cols.sum(), cols @ x, rows @ y],
        [cols @ x, cols @ (x * x), y @ weights @ x],
        [rows @ y, y @ weights @ x, rows @ (y * y)],
    ], dtype=np.float64)  # fmt: skip
    rhs = np.array([g_cols.sum(), g_cols @ x, g_rows @ y], dtype=np.float64)
    return np.linalg.lstsq(normal, rhs, rcond=None)[0]


def plane_gain(
    face: np.ndarray, target: np.ndarray, weights: np.ndarray, centre: np.ndarray, iod_px: float
) -> np.ndarray:
    """(h, w) float32 gain that gives ``face`` (the corrected source, float BGR)
    the target's plane of brightness over the central face (``weights``).

    The plane a + b x + c y over the central face is the light's direction as
    the eye reads it, features included: what the low band leaves (its local
    means are matched at a finer scale over the whole outline, where brows,
    glasses or an open mouth at the centre's edges tilt the plane) is put right
    by a gentle ramp, zero at the face's centre.
    """
    h, w = weights.shape
    x = (np.arange(w, dtype=np.float32) - np.float32(centre[0])) / np.float32(iod_px)
    y = (np.arange(h, dtype=np.float32) - np.float32(centre[1])) / np.float32(iod_px)
    # The face as it will be saved: saturated at 255 (bright teeth, a hot spot).
    face = np.minimum(face, 255).astype(np.float32, copy=False)
    greys = [cv2.cvtColor(im, cv2.COLOR_BGR2GRAY) for im in (face, target.astype(np.float32))]
    have, want = (brightness_plane(g, weights, x, y) for g in greys)
    # A gain g changes a grey level v by about v * log g: the slopes' difference
    # over the face's level is the log gain's slope.
    slope = (want[1:] - have[1:]) / max(float(have[0]), 8.0)
    change = np.float32(slope[0]) * x[None, :] + np.float32(slope[1]) * y[:, None]
    return np.exp(np.clip(change, -PLANE_BOUND, PLANE_BOUND))
