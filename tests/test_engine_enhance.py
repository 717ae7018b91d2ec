"""``enhance=True``: the swapped face gets sharper, nothing outside it changes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from swaps.engine import SwapOptions, detect_faces, enhance, shape, swap

pytestmark = pytest.mark.usefixtures("engine_models")


@pytest.fixture(scope="module", params=["astronaut_to_grace", "grace_to_astronaut"])
def pair(request, astronaut, grace) -> dict:
    src, dst = (astronaut, grace) if request.param == "astronaut_to_grace" else (grace, astronaut)
    landmarks = detect_faces(dst)[0].landmarks
    return {
        "plain": swap(src, dst),
        "enhanced": swap(src, dst, options=SwapOptions(enhance=True)),
        "landmarks": landmarks,
        "target": dst,
    }


def _hull(points: np.ndarray, shape_hw: tuple[int, ...]) -> np.ndarray:
    mask = np.zeros(shape_hw[:2], np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(points).astype(np.int32)), 1)
    return mask.astype(bool)


def _laplacian_variance(image: np.ndarray, region: np.ndarray) -> float:
    lap = cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.CV_32F)
    return float(lap[region].var())


def test_enhance_is_off_by_default():
    assert SwapOptions().enhance is False


def test_enhance_raises_sharpness_of_the_face(pair):
    inner = _hull(pair["landmarks"][shape.INNER_FACE], pair["target"].shape)
    plain = _laplacian_variance(pair["plain"].image, inner)
    enhanced = _laplacian_variance(pair["enhanced"].image, inner)
    assert enhanced > 1.2 * plain


def test_enhance_changes_only_the_face(pair):
    points, _ = shape.extend_landmarks(pair["landmarks"], SwapOptions().forehead)
    outline = _hull(points[shape.OUTLINE], pair["target"].shape)
    changed = np.any(pair["enhanced"].image != pair["plain"].image, axis=2)
    assert changed.any()
    assert not (changed & ~outline).any()


def test_enhance_adds_no_halos(pair):
    """No pixel ends up far outside the range of its neighbours in the plain swap."""
    plain, enhanced = pair["plain"].image, pair["enhanced"].image.astype(np.int16)
    kernel = np.ones((5, 5), np.uint8)
    over = np.maximum(enhanced - cv2.dilate(plain, kernel), cv2.erode(plain, kernel) - enhanced)
    assert over.max() <= 2 * enhance.OVERSHOOT + 2


def test_enhance_reports_its_stage_time(pair):
    assert pair["enhanced"].timings_ms["enhance"] >= 0
    assert "enhance" not in pair["plain"].timings_ms


def test_unsharp_keeps_flat_areas_and_clamps_edges():
    step = np.zeros((40, 40, 3), np.uint8)
    step[:, 20:] = 200
    sharp = enhance.unsharp(step, sigma=2.0, amount=2.0)
    assert sharp.min() >= 0 and sharp.max() <= 200 + enhance.OVERSHOOT
    flat = np.full((20, 20, 3), 90, np.uint8)
    assert np.array_equal(enhance.unsharp(flat, 1.5, 1.0), flat)


def test_face_weight_is_zero_outside_and_one_deep_inside():
    outline = np.array([[20, 20], [80, 20], [80, 80], [20, 80]], np.float64)
    weight = enhance.face_weight(outline, (100, 100), face_size=60.0)
    assert weight[5, 5] == 0 and weight[95, 50] == 0 and weight[50, 19] == 0
    assert weight[50, 50] == pytest.approx(1.0, abs=1e-3)


def test_enhance_on_a_face_at_the_image_border_stays_in_bounds(pair):
    target = pair["target"]
    shifted = pair["landmarks"] - pair["landmarks"].min(axis=0) + (-5, -5)  # off the corner
    out = enhance.enhance_face(target, target, shifted)
    assert out.shape == target.shape and out.dtype == np.uint8


def test_in_place_reuses_the_array(pair):
    image = pair["plain"].image.copy()
    out = enhance.enhance_face(image, pair["target"], pair["landmarks"], in_place=True)
    assert out is image
    assert not np.array_equal(out, pair["plain"].image)
