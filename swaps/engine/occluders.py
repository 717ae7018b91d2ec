"""The target's glasses stay on the new face.

A swap pastes the source's face over everything inside the mask, so a
target's glasses frames vanish, or stay as a faint ghost of the colour match,
which reads as fake at once. Here the frames are found on the target (on the
analysis grid), the blend weight drops along them, so the new face wears
the target's glasses, and the colour match leaves them out of its means (a
dark frame would darken the skin round it).

How frames are told from a face's own lines: a frame is a thin line, darker
or brighter than what is on both sides of it (a morphological black-hat /
top-hat a sixth of the eye distance wide), that runs *all the way* round each
eye at a distance from it and across the nose's bridge. Round each eye the
best closed-ish path through that line response is found in polar
coordinates (dynamic programming: one radius per angle, moving at most one
step between angles), and across the bridge the best path from one inner eye
corner to the other. Glasses are found only when the weakest quarter of both
rims' lower arcs (below the brows, where a face has only lids, bags and
wrinkles, none of them running all the way round) and of the bridge are
strong lines (the paths round the eyes prefer the outer of two lines: a lens's
rim lies outside a lower lid's crease). When nothing is found neither the mask
nor the colour match is touched, so the swap is bit for bit what it was
without this step. Frames are judged by grey level only: a frame as bright as
the skin, or under 20 grid pixels between the eyes, is not found.
"""

from __future__ import annotations

import cv2
import numpy as np

from . import mask, skin

# Angles round each eye (0 = outwards, 90 = down, +-180 = towards the nose);
# the lenses are wider than tall, so the rays' vertical reach is squashed.
N_ANGLES = 48
SQUASH = 0.8
REACH_IOD = 0.9  # the rays' length, in inter-ocular distances
# The eye itself (its hull grown by this share of the inter-ocular distance) is
# never a frame: its lids and lashes are the strongest lines near it.
EYE_GROW_IOD = 0.1
OUTWARD = 1.0
# The line filter's width (a frame is thinner, a lid's shadow or a brow wider).
LINE_IOD = 0.16
# The lower arc, where the rim is judged (degrees; the brows sit above it).
ARC = (-30.0, 210.0)
# Found when the 25th percentile of the line response (relative to the skin's
# brightness) along both lower arcs and the bridge reaches these, and their
# geometric mean reaches SCORE. Measured on the benchmark's 62 faces (their
# analysis grids): the 3 with glasses over 20 px between the eyes 0.18-0.55,
# the faces without glasses at most 0.16 (deep wrinkles round the eyes).
MIN_RIM, MIN_BRIDGE, SCORE = 0.1, 0.18, 0.17
# And the rims' quartile reaches this many times the cheeks' median response: a
# deeply wrinkled face's lines round the eyes are no stronger than its cheeks'
# (1.1-1.25 on the faces above the score, also rescaled and JPEG-compressed;
# glasses 1.5-4.1).
OVER_TEXTURE = 1.3
# The mask: pixels of the line response over this share of the rims' median,
# within this distance of a path (inter-ocular distances), grown one pixel and
# blurred by EDGE_SIGMA pixels; the brows (BROW_IOD wide) are never in it.
PIXEL_SHARE, NEAR_IOD = 0.6, 0.04
EDGE_SIGMA = 0.7
BROW_IOD = 0.18
# Under this many grid pixels between the eyes a frame is a pixel wide or less
# and the line filter reads noise (a 2 x 2 block blob on the contact sheet).
MIN_IOD = 20.0


def line_response(grey: np.ndarray, iod: float) -> np.ndarray:
    """Thin dark or bright lines: the larger of the black-hat and the top-hat."""
    width = max(3, round(LINE_IOD * iod) | 1)
    # A square: OpenCV runs it as two 1-D passes, ~3x cheaper than a disc.
    kernel = np.ones((width, width), np.uint8)
    dark = cv2.morphologyEx(grey, cv2.MORPH_CLOSE, kernel) - grey
    bright = grey - cv2.morphologyEx(grey, cv2.MORPH_OPEN, kernel)
    return np.maximum(dark, bright)


def best_path(score: np.ndarray) -> np.ndarray:
    """Column per row maximising the sum of ``score`` (rows x cols), moving at
    most one column between rows; a (rows, k, cols) ``score`` gives k paths
    (rows x k), found together."""
    if score.ndim == 2:
        return best_path(score[:, None, :])[:, 0]
    n, k, m = score.shape
    # Every row's running best, each lane padded with -inf and the lanes laid
    # end to end: a row's three candidates are 1-D views of the row above, so
    # the loop is three ufuncs a row on flat slices (a pad stays -inf: -inf plus
    # anything), and where each best came from is read afterwards for all rows.
    total = np.full((n, k, m + 2), -np.inf, np.float32)
    total[:, :, 1:-1] = score
    rows = total.reshape(n, -1)
    best = np.empty(rows.shape[1] - 2, np.float32)
    for i in range(1, n):
        above = rows[i - 1]
        np.maximum(above[:-2], above[1:-1], out=best)
        np.maximum(best, above[2:], out=best)
        rows[i, 1:-1] += best
    above = total[:-1]
    best = np.maximum(np.maximum(above[..., :-2], above[..., 1:-1]), above[..., 2:])
    # Where each row's best came from: here (0), else the left (-1), else the right.
    moves = np.where(above[..., 1:-1] == best, 0, np.where(above[..., :-2] == best, -1, 1))
    path = np.empty((n, k), np.intp)
    path[-1] = total[-1, :, 1:-1].argmax(axis=1)
    for lane in range(k):  # scalar steps on lists: cheaper than array ops on k values
        steps, at = moves[:, lane].tolist(), int(path[-1, lane])
        for i in range(n - 2, -1, -1):
            at += steps[i][at]
            path[i, lane] = at
    return path


def glasses_mask(target: np.ndarray, points: np.ndarray, iod: float) -> np.ndarray | None:
    """(h, w) float32 0..1 on ``target``'s grid: the target's glasses frames, or
    None when it wears none. ``target``: BGR uint8, ``points``: its own 68
    landmarks on that grid, ``iod`` pixels between the eyes."""
    if iod < MIN_IOD:  # frames a pixel wide: the line filter reads noise
        return None
    box = _box(points, iod, target.shape)
    if box[0].stop - box[0].start < iod or box[1].stop - box[1].start < iod:
        return None  # the eyes are (mostly) outside the image
    local = points - (box[1].start, box[0].start)
    grey = cv2.cvtColor(target[box], cv2.COLOR_BGR2GRAY).astype(np.float32)
    cheeks = _cheeks(local, grey.shape)
    response = line_response(grey, iod) / (_median(grey, cheeks) + 10.0)
    bridge = _bridge(response, local)
    # Most faces have no line across the bridge: no search round the eyes then.
    if bridge is None or _percentile(bridge[1], 0.25) < MIN_BRIDGE:
        return None
    eyes = _eyes(local, grey.shape, iod)
    rims = _rims(response, eyes, local, iod)
    if not _found(rims, bridge[1], _median(response, cheeks)):
        return None
    out = np.zeros(target.shape[:2], np.float32)
    out[box] = _frames(response, eyes, [path for path, _ in rims] + [bridge[0]], rims, local, iod)
    return np.minimum(out, 1.0)


def _frames(
    response: np.ndarray,
    eyes: np.ndarray,
    paths: list[np.ndarray],
    rims: list[tuple[np.ndarray, np.ndarray]],
    points: np.ndarray,
    iod: float,
) -> np.ndarray:
    """The frames' mask: the strong line response near the ``paths``, not in the
    grown ``eyes`` nor on the brows, grown a pixel and softened."""
    share = PIXEL_SHARE * _percentile(np.concatenate([v for _, v in rims]), 0.5)
    near = np.zeros(response.shape, np.uint8)
    thick = 2 * max(1, round(NEAR_IOD * iod)) + 1
    cv2.polylines(near, [np.round(p).astype(np.int32) for p in paths], False, 1, thick)
    brows = _brows(points, response.shape, iod)
    frames = (near > 0) & (response > share) & (eyes == 0) & (brows == 0)
    frames = cv2.dilate(frames.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(np.float32)
    return cv2.GaussianBlur(frames, (0, 0), EDGE_SIGMA)


def _box(points: np.ndarray, iod: float, shape_hw: tuple[int, ...]) -> tuple[slice, slice]:
    """The region the rims' rays reach: both eyes, REACH_IOD round them."""
    eyes = points[36:48]
    x0, y0 = eyes.min(axis=0) - (REACH_IOD + 0.2) * iod
    x1, y1 = eyes.max(axis=0) + (REACH_IOD + 0.2) * iod
    x0, y0 = max(0, int(x0)), max(0, int(y0))
    x1, y1 = min(shape_hw[1], int(x1) + 1), min(shape_hw[0], int(y1) + 1)
    return slice(y0, y1), slice(x0, x1)


def _cheeks(points: np.ndarray, shape_hw: tuple[int, ...]) -> np.ndarray:
    """bool: the cheeks and nose (``skin.REFERENCE``'s polygon)."""
    region = np.zeros(shape_hw, np.uint8)
    cv2.fillPoly(region, [np.round(points[skin.REFERENCE]).astype(np.int32)], 1)
    return region > 0


def _median(image: np.ndarray, region: np.ndarray) -> float:
    values = image[region]
    return _percentile(values if values.size else image.ravel(), 0.5)


def _percentile(values: np.ndarray, q: float) -> float:
    """np.percentile(values, 100 * q) (its linear method) by a partial sort:
    the same value, without numpy's ~30 us of overhead a call (7 calls a face)."""
    position = q * (len(values) - 1)
    below = int(position)
    above = min(below + 1, len(values) - 1)
    part = np.partition(values, (below, above))
    low, high = float(part[below]), float(part[above])
    return low + (high - low) * (position - below)


def _eyes(points: np.ndarray, shape_hw: tuple[int, ...], iod: float) -> np.ndarray:
    """uint8 0/1: both eyes' hulls, grown by EYE_GROW_IOD."""
    out = np.zeros(shape_hw, np.uint8)
    for idx in (slice(36, 42), slice(42, 48)):
        cv2.fillConvexPoly(out, np.round(points[idx]).astype(np.int32), 1)
    return mask.grown(out, max(1, round(EYE_GROW_IOD * iod)))


def _brows(points: np.ndarray, shape_hw: tuple[int, ...], iod: float) -> np.ndarray:
    """uint8 0/1: the brows' lines, BROW_IOD wide: the rims' paths cross them,
    and a brow kept from the target would carry its identity onto the new face."""
    out = np.zeros(shape_hw, np.uint8)
    lines = [np.round(points[idx]).astype(np.int32) for idx in (slice(17, 22), slice(22, 27))]
    cv2.polylines(out, lines, False, 1, max(1, round(BROW_IOD * iod)))
    return out


def _rims(
    response: np.ndarray, eyes: np.ndarray, points: np.ndarray, iod: float
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The best path round each eye: its points (n, 2) and the line response
    along it (both eyes' paths found in one pass of ``best_path``)."""
    radii = np.linspace(0.0, REACH_IOD * iod, max(12, round(REACH_IOD * iod)))
    polars = [_polar(response, eyes, points, radii, side) for side in (-1.0, 1.0)]
    prefer = (1.0 + OUTWARD * radii / radii[-1]).astype(np.float32)
    paths = best_path(np.stack([polar * prefer for polar, _, _ in polars], axis=1))
    rows = np.arange(N_ANGLES)
    out = []
    for (polar, map_x, map_y), cols in zip(polars, paths.T, strict=True):
        xy = np.stack((map_x[rows, cols], map_y[rows, cols]), axis=1)
        out.append((xy, polar[rows, cols]))
    return out


def _polar(
    response: np.ndarray, eyes: np.ndarray, points: np.ndarray, radii: np.ndarray, outward: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``response`` along rays from one eye's centre (``outward`` -1: the eye of
    points 36-41, on the image's left), 0 in the eye and past the nose's
    midline; with the rays' pixel coordinates (angles x radii each)."""
    centre = (points[36:42] if outward < 0 else points[42:48]).mean(axis=0)
    angles = np.deg2rad(_angles())
    map_x = (centre[0] + np.outer(np.cos(angles) * outward, radii)).astype(np.float32)
    map_y = (centre[1] + np.outer(np.sin(angles) * SQUASH, radii)).astype(np.float32)
    midline = points[27:31, 0].mean()  # the bridge's path is there
    allowed = ((map_x - midline) * outward > 0).astype(np.float32)
    free = cv2.remap((1 - eyes).astype(np.float32), map_x, map_y, cv2.INTER_NEAREST)
    polar = cv2.remap(response, map_x, map_y, cv2.INTER_LINEAR) * free * allowed
    return polar, map_x, map_y


def _angles() -> np.ndarray:
    return np.linspace(-180.0, 180.0, N_ANGLES, endpoint=False)


def _bridge(response: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The best path across the nose's bridge, from one inner eye corner to the
    other, between the brows and point 28: its points and the response along it."""
    x0, x1 = round(points[39, 0]), round(points[42, 0])
    y0, y1 = round(min(points[21, 1], points[22, 1])), round(points[28, 1])
    x0, y0 = max(0, x0), max(0, y0)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    columns = response[y0 : y1 + 1, x0 : x1 + 1].T
    if min(columns.shape) < 2:  # the bridge is (mostly) outside the image
        return None
    if not _may_reach(columns.max(axis=1), MIN_BRIDGE):
        return None  # no path across can be strong enough: most bare faces
    path = best_path(columns)
    steps = np.arange(columns.shape[0])
    xy = np.stack((steps + x0, path + y0), axis=1).astype(np.float64)
    return xy, columns[steps, path]


def _may_reach(row_best: np.ndarray, floor: float) -> bool:
    """Whether a path through rows whose best values are ``row_best`` can have
    a 25th percentile (``_percentile``) of ``floor`` or more: that needs every
    value from the upper of its two order statistics on, so that many rows."""
    n = len(row_best)
    above = min(int(0.25 * (n - 1)) + 1, n - 1)
    return int(np.count_nonzero(row_best >= floor)) >= n - above


def _found(rims: list[tuple[np.ndarray, np.ndarray]], bridge: np.ndarray, texture: float) -> bool:
    """Both rims' lower arcs and the bridge are strong lines all along, and the
    rims stand out of the skin's own ``texture`` (the cheeks' median response)."""
    angles = _angles()
    arc = (angles >= ARC[0]) & (angles <= ARC[1])
    rim = min(_percentile(values[arc], 0.25) for _, values in rims)
    across = _percentile(bridge, 0.25)
    strong = rim >= MIN_RIM and across >= MIN_BRIDGE and np.sqrt(rim * across) >= SCORE
    return strong and rim >= OVER_TEXTURE * texture
