"""The tuned swap (likeness trade-off) and the quality measures it is judged by.

The figures asserted on the fixtures are the ones benchmarks/engine_quality.py
reports over many pairs; the thresholds leave room for resampling noise but
not for a regression (the head moving, pixels changing outside the face, the
identity staying the target's). No timing assertions.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from swaps.engine import (
    EngineError,
    SwapOptions,
    detail,
    detect_faces,
    face_descriptor,
    shape,
    swap,
    swap_scores,
    trade_off,
)
from swaps.engine import quality as q
from tests.images import ASTRONAUT, GRACE_HOPPER, load_fixture

pytestmark = pytest.mark.usefixtures("engine_models")


@pytest.fixture(scope="module")
def faces() -> dict:
    out = {}
    for name in (ASTRONAUT, GRACE_HOPPER):
        image = load_fixture(name)
        face = detect_faces(image)[0]
        out[name] = (image, face, face_descriptor(image, face.landmarks))
    return out


def scores(faces: dict, source: str, target: str, **options: float) -> swap_scores.SwapScores:
    src, _, src_desc = faces[source]
    dst, dst_face, dst_desc = faces[target]
    out = swap(src, dst, options=SwapOptions(**options)).image
    return swap_scores.score_swap(out, dst, dst_face, src_desc, dst_desc)


DIRECTIONS = [(ASTRONAUT, GRACE_HOPPER), (GRACE_HOPPER, ASTRONAUT)]


# --- the default swap on the fixtures -------------------------------------------


@pytest.mark.parametrize(("source", "target"), DIRECTIONS, ids=["to_grace", "to_astronaut"])
def test_default_swap_meets_the_quality_targets(faces, source, target):
    s = scores(faces, source, target)
    assert s.found
    assert s.transferred and s.d_src <= 0.45  # looks like the source...
    assert s.d_src < s.d_tgt - 0.1  # ...and clearly not like the target:
    # Grace's glasses stay on the new face (occluders.py) and the recogniser reads
    # them as hers (d_src / d_tgt 0.44 / 0.59 with them, 0.31 / 0.64 without), so
    # the face itself is held to the wider margin without them.
    bare = scores(faces, source, target, keep_glasses=False)
    assert bare.d_src < bare.d_tgt - 0.2
    # The head stays: on these ~100 px faces landmark noise alone gives up to
    # ~0.07 (likeness 0 included); a head that moved would give far more.
    assert s.head_err <= 0.1
    assert s.background == 0.0  # not one pixel moves by 12 levels outside the face
    # Grace's glasses frames add real edges in the ring around the astronaut's
    # face (~1.2); a hard-edged paste scores more (see the seam test below).
    assert s.seam <= 1.35
    assert s.tone <= 12.0


@pytest.mark.parametrize(("source", "target"), DIRECTIONS, ids=["to_grace", "to_astronaut"])
def test_more_likeness_means_nearer_the_source(faces, source, target):
    d = [scores(faces, source, target, likeness=level).d_src for level in (0.0, 0.7, 1.0)]
    # likeness 0 fits the source's eyelids and lips to the target's exactly (the
    # mesh's detail points), so even it keeps less of the source than 0.7 by a margin.
    assert d[0] > d[1] + 0.05 and d[1] > d[2]


def test_nothing_outside_the_grown_face_hull_changes(faces):
    """Outside the target's landmark hull grown by 0.6 inter-ocular distances the
    output is byte-identical, at the strongest likeness setting too."""
    target, face, _ = faces[ASTRONAUT]
    source = faces[GRACE_HOPPER][0]
    iod = q.inter_ocular(face.landmarks)
    hull = np.zeros(target.shape[:2], np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(face.landmarks.astype(np.int32)), 1)
    distance = cv2.distanceTransform(1 - hull, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    outside = distance > q.BACKGROUND_MARGIN * iod
    for level in (0.7, 1.0):
        out = swap(source, target, options=SwapOptions(likeness=level)).image
        assert np.array_equal(out[outside], target[outside])


def test_likeness_zero_keeps_the_target_geometry(faces):
    """likeness=0 is the plain landmark swap: the face's shape is the target's."""
    src, _, _ = faces[GRACE_HOPPER]
    dst, dst_face, _ = faces[ASTRONAUT]
    out = swap(src, dst, options=SwapOptions(likeness=0.0)).image
    found, _ = q.face_at(out, dst_face)
    err = np.linalg.norm(found.landmarks - dst_face.landmarks, axis=1).mean()
    assert err < 0.05 * dst_face.box[2]


# --- the trade-off option ---------------------------------------------------------


def test_likeness_sets_shape_colour_and_mask_together():
    low, mid, high = (trade_off.resolve(v) for v in (0.0, 0.7, 1.0))
    assert (low.shape, low.colour) == (0.0, 0.0)
    assert low.shape < mid.shape < high.shape == 1.0
    assert low.colour < mid.colour < high.colour == trade_off.COLOUR_AT_ONE
    assert low.erode > mid.erode > high.erode
    assert SwapOptions().likeness == trade_off.DEFAULT_LIKENESS


def test_explicit_settings_override_likeness():
    keep = trade_off.resolve(0.7, shape=0.2, colour=0.0, erode=0.05)
    assert (keep.shape, keep.colour, keep.erode) == (0.2, 0.0, 0.05)


@pytest.mark.parametrize("bad", [-0.1, 1.5, math.nan])
def test_likeness_out_of_range_is_an_invalid_option(faces, bad):
    src, dst = faces[ASTRONAUT][0], faces[GRACE_HOPPER][0]
    with pytest.raises(EngineError) as info:
        swap(src, dst, options=SwapOptions(likeness=bad))
    assert info.value.code == "invalid_option"


# --- the shape morph ------------------------------------------------------------


def _shapes(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two different faces: the mean shape distorted, turned, scaled and moved."""
    rng = np.random.default_rng(seed)
    faces = []
    for size, turn, at in ((220.0, 0.1, (300, 260)), (140.0, -0.25, (90, 120))):
        pts = shape.MEAN_SHAPE_68 + rng.normal(0, 0.02, (68, 2))
        c, s = math.cos(turn), math.sin(turn)
        pts = (pts - 0.5) @ np.array([[c, s], [-s, c]]) * size + at
        faces.append(shape.extend_landmarks(pts)[0])
    return faces[0], faces[1]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("amount", [0.35, 0.7, 1.0])
def test_morph_keeps_the_head_where_it_was(seed, amount):
    dst, src = _shapes(seed)
    out = shape.morph_towards(dst, src, amount)
    head = q.head_error(dst[: shape.N_LANDMARKS], out[: shape.N_LANDMARKS])
    assert head < 1e-9  # same centroid, size and rotation
    assert np.abs(out - dst).max() > 1.0  # but the proportions did change
    frame = np.setdiff1d(np.arange(len(dst)), shape.MORPHED)  # the frame does not move
    assert len(frame) == 8 and np.array_equal(out[frame], dst[frame])


@pytest.mark.parametrize("seed", range(5))
def test_morph_moves_towards_the_source_proportions_and_never_pulls_the_jaw_in(seed):
    dst, src = _shapes(seed)
    placed = shape.fit_similarity(src[:68], dst[:68]).apply(src[:68])
    gaps = [
        np.linalg.norm(shape.morph_towards(dst, src, a)[:68] - placed, axis=1).mean()
        for a in (0.0, 0.5, 1.0)
    ]
    assert gaps[0] > gaps[1] > gaps[2]
    centre = dst[:68].mean(axis=0)
    out = shape.morph_towards(dst, src, 1.0)
    reach = np.linalg.norm(out[:17] - centre, axis=1) / np.linalg.norm(dst[:17] - centre, axis=1)
    assert reach.min() > 0.98  # the target's jaw line is never left showing


# --- the measures ---------------------------------------------------------------


def test_head_error_measures_shift_scale_and_rotation():
    pts = shape.MEAN_SHAPE_68 * 200 + 100
    iod = q.inter_ocular(pts)
    assert q.head_error(pts, pts) == pytest.approx(0.0, abs=1e-12)
    assert q.head_error(pts, pts + (0.1 * iod, 0)) == pytest.approx(0.1)
    centre = pts.mean(axis=0)
    assert q.head_error(pts, (pts - centre) * 1.05 + centre) == pytest.approx(0.05)
    c, s = math.cos(0.03), math.sin(0.03)
    turned = (pts - centre) @ np.array([[c, s], [-s, c]]) + centre
    assert q.head_error(pts, turned) == pytest.approx(0.03)


def test_background_seam_and_tone_of_an_untouched_image_are_neutral(faces):
    image, face, _ = faces[GRACE_HOPPER]
    assert q.background_changed(image, image.copy(), face.landmarks) == 0.0
    assert q.seam_ratio(image, image.copy(), face.landmarks) == pytest.approx(1.0)
    assert q.tone_difference(image, image.copy(), face.landmarks) == 0.0


def test_background_counts_changes_away_from_the_face_only(faces):
    image, face, _ = faces[GRACE_HOPPER]
    near = image.copy()
    x, y, w, h = face.box
    near[y + h // 3 : y + h // 2, x + w // 3 : x + w // 2] = 0  # inside the face
    assert q.background_changed(image, near, face.landmarks) == 0.0
    far = image.copy()
    far[:50, :100] = 255 - far[:50, :100]  # a corner, far from the face
    share = q.background_changed(image, far, face.landmarks)
    assert 0.5 * 5000 / image[..., 0].size < share <= 5000 / (image[..., 0].size * 0.5)


def test_grain_reads_the_finest_band_of_the_face_against_the_photo(faces):
    image, face, _ = faces[GRACE_HOPPER]
    assert q.grain_ratio(image, image.copy(), face.landmarks) == pytest.approx(1.0)
    smooth = cv2.GaussianBlur(image, (0, 0), 2.0)  # a plastic face
    assert q.grain_ratio(image, smooth, face.landmarks) < 0.3
    noise = np.random.default_rng(5).normal(0, 8, image.shape[:2])[..., None]
    grainy = np.clip(image + noise, 0, 255).astype(np.uint8)
    assert q.grain_ratio(image, grainy, face.landmarks) > 1.2


def test_tone_is_cie76_in_lab_units(faces):
    image, face, _ = faces[GRACE_HOPPER]
    inner = q.inner_face(image.shape, face.landmarks)
    white, black = image.copy(), image.copy()
    white[inner], black[inner] = 255, 0
    # The measure works on a shrunk copy, whose edge pixels blend a little.
    assert q.tone_difference(black, white, face.landmarks) == pytest.approx(100.0, abs=2.0)


def test_a_hard_edged_paste_raises_the_seam_ratio(faces):
    image, face, _ = faces[GRACE_HOPPER]
    hull = np.zeros(image.shape[:2], np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(face.landmarks.astype(np.int32)), 1)
    pasted = image.copy()
    pasted[hull > 0] = 255 - image[hull > 0]  # same texture, a hard outline
    assert q.seam_ratio(image, pasted, face.landmarks) > 1.15


def test_no_landmark_moves_further_than_the_limit():
    dst, src = _shapes(0)
    src = src.copy()
    src[48:68] += (0.0, 40.0)  # a mouth far out of place (a bad fit, a wide yawn)
    free = shape.morph_towards(dst, src, 1.0)
    held = shape.morph_towards(dst, src, 1.0, max_move=10.0)
    assert np.linalg.norm(free - dst, axis=1).max() > 20
    assert np.linalg.norm(held - dst, axis=1).max() < 10 * 1.2
    assert q.head_error(dst[:68], held[:68]) < 1e-9


# --- sharpness matching -----------------------------------------------------------


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)


def test_a_sharp_source_is_softened_for_a_soft_target_only(faces):
    image, face, _ = faces[GRACE_HOPPER]
    region = q.inner_face(image.shape, face.landmarks)
    soft = cv2.GaussianBlur(image, (0, 0), 2.5)
    assert detail.matching_blur(image, image, region) == 0.0
    assert detail.matching_blur(soft, image, region) == 0.0  # never sharpened
    sigma = detail.matching_blur(image, soft, region)
    assert sigma > 0
    softened = _grey(detail.soften(image, sigma))
    goal = detail.sharpness(_grey(soft), region.astype(np.uint8))
    assert detail.sharpness(softened, region.astype(np.uint8)) <= goal * detail.TOLERANCE


def test_the_sharpness_match_is_judged_at_one_face_size_whatever_the_photo_size(faces):
    image, face, _ = faces[GRACE_HOPPER]
    inner = face.landmarks[shape.INNER_FACE]
    face_size = float(np.ptp(face.landmarks[:, 0]))
    soft = cv2.GaussianBlur(image, (0, 0), 2.5)
    assert detail.source_blur(image, image, inner, face_size) == 0.0
    assert detail.source_blur(soft, image, inner, face_size) == 0.0  # never sharpened
    sigma = detail.source_blur(image, soft, inner, face_size)
    assert sigma > 0
    # The same photos twice as large: the same look, so twice the blur in pixels.
    big = [cv2.resize(im, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC) for im in (image, soft)]
    assert detail.source_blur(*big, inner * 2 + 0.5, face_size * 2) == pytest.approx(
        2 * sigma, rel=0.02
    )


@pytest.mark.parametrize("sigma", [1.0, 6.0])
def test_soften_blurs_without_moving_or_shifting_colour(faces, sigma):
    image = faces[GRACE_HOPPER][0]
    out = detail.soften(image, sigma)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert np.abs(out.astype(float).mean() - image.astype(float).mean()) < 1.0
    edges = cv2.Laplacian(_grey(out), cv2.CV_32F).var()
    assert edges < 0.6 * cv2.Laplacian(_grey(image), cv2.CV_32F).var()


def test_a_swap_into_a_soft_photo_comes_out_soft(faces):
    source = faces[GRACE_HOPPER][0]
    target, face, _ = faces[ASTRONAUT]
    soft_target = cv2.GaussianBlur(target, (0, 0), 1.5)
    region = q.inner_face(target.shape, face.landmarks).astype(np.uint8)
    kept = swap(source, soft_target, options=SwapOptions(match_sharpness=False)).image
    matched = swap(source, soft_target).image
    sharp = [detail.sharpness(_grey(im), region) for im in (kept, matched, soft_target)]
    assert sharp[1] < sharp[0]
    assert sharp[1] <= sharp[2] * 1.3
