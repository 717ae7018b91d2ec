"""Behaviour of the face-swap engine (swaps.engine) on real faces.

No Django and no timing assertions here: speed is measured by
benchmarks/engine_speed.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from swaps.engine import (
    EngineError,
    Face,
    FaceIndexOutOfRange,
    NoFaceDetected,
    SwapResult,
    colour,
    detect_faces,
    exposure,
    face_descriptor,
    models,
    regions,
    shape,
    skin,
    swap,
    warp,
)
from swaps.engine import mask as engine_mask
from swaps.engine.quality import SAME_PERSON, identity_distance
from tests.engine_helpers import face_region, iou, run_engine_cli
from tests.images import (
    ASTRONAUT,
    FOUR_FACES,
    GRACE_HOPPER,
    TWO_FACES,
    fixture_path,
    load_fixture,
    tile_of,
    tiled_faces,
)

pytestmark = pytest.mark.usefixtures("engine_models")
TIMING_KEYS = {"detect", "landmarks", "warp", "blend", "total"}


@pytest.fixture(scope="session", params=["astronaut_to_grace", "grace_to_astronaut"])
def swapped(request, astronaut, grace) -> dict:
    """One swap per direction, with both inputs kept pristine for comparison."""
    src, dst = (astronaut, grace) if request.param == "astronaut_to_grace" else (grace, astronaut)
    src_before, dst_before = src.copy(), dst.copy()
    result = swap(src, dst)
    return {
        "source": src,
        "target": dst,
        "result": result,
        "source_unchanged": np.array_equal(src, src_before),
        "target_unchanged": np.array_equal(dst, dst_before),
        "source_face": detect_faces(src)[0],
        "target_face": detect_faces(dst)[0],
    }


def centre(face: Face) -> tuple[float, float]:
    x, y, w, h = face.box
    return x + w / 2, y + h / 2


def inner_face(face: Face, shape: tuple[int, ...]) -> np.ndarray:
    """Boolean mask of the central part of the face (hull of landmarks, shrunk)."""
    pts = face.landmarks
    c = pts.mean(axis=0)
    hull = cv2.convexHull(((pts - c) * 0.7 + c).astype(np.int32))
    out = np.zeros(shape[:2], np.uint8)
    cv2.fillConvexPoly(out, hull, 1)
    return out.astype(bool)


def blank(h: int = 300, w: int = 400, value: int = 200) -> np.ndarray:
    return np.full((h, w, 3), value, np.uint8)


def noise(h: int = 300, w: int = 400) -> np.ndarray:
    return np.random.default_rng(7).integers(0, 256, (h, w, 3), dtype=np.uint8)


# --- detection -------------------------------------------------------------


@pytest.mark.parametrize("name", [ASTRONAUT, GRACE_HOPPER])
def test_detects_one_face_with_landmarks_at_full_resolution(name):
    image = load_fixture(name)
    faces = detect_faces(image)
    assert len(faces) == 1
    face = faces[0]
    x, y, w, h = face.box
    assert all(isinstance(v, int) for v in face.box)
    assert x >= 0 and y >= 0 and x + w <= image.shape[1] and y + h <= image.shape[0]
    assert isinstance(face.score, float)
    assert face.landmarks.shape == (68, 2)
    # Landmarks lie on the face: inside the box, give or take the forehead/chin.
    lo, hi = face.landmarks.min(axis=0), face.landmarks.max(axis=0)
    assert x - 0.15 * w <= lo[0] and hi[0] <= x + 1.15 * w
    assert y - 0.15 * h <= lo[1] and hi[1] <= y + 1.25 * h


def test_detection_finds_the_same_face_at_any_resolution(grace):
    """A large photo is detected on a small working copy; boxes come back full size."""
    big = cv2.resize(grace, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
    small_face, big_face = detect_faces(grace)[0], detect_faces(big)[0]
    assert iou(tuple(4 * v for v in small_face.box), big_face.box) > 0.6
    err = np.abs(big_face.landmarks / 4 - small_face.landmarks).mean()
    assert err < 0.03 * small_face.box[2]


def test_small_faces_in_small_photos_are_found(astronaut):
    """A ~45 px face in a small photo is still found."""
    small = cv2.resize(astronaut, None, fx=0.45, fy=0.45, interpolation=cv2.INTER_AREA)
    faces = detect_faces(small)
    assert len(faces) == 1
    assert 30 <= faces[0].box[2] <= 60


@pytest.mark.parametrize("tiles", [TWO_FACES, FOUR_FACES], ids=["two", "four"])
def test_faces_come_largest_first(tiles):
    mosaic, boxes = tiled_faces(tiles)
    faces = detect_faces(mosaic)
    assert len(faces) == len(tiles)
    areas = [f.area for f in faces]
    assert areas == sorted(areas, reverse=True)
    # The tiles are built with decreasing face sizes, so order = tile order.
    assert [tile_of(centre(f), boxes) for f in faces] == list(range(len(tiles)))


def test_an_out_of_range_index_reports_every_face(astronaut):
    mosaic, _ = tiled_faces(FOUR_FACES)
    with pytest.raises(FaceIndexOutOfRange) as info:
        swap(astronaut, mosaic, target_face=7)
    assert info.value.details == {"image": "target", "index": 7, "faces": 4}


@pytest.mark.parametrize("image", [blank(), noise()], ids=["blank", "noise"])
def test_no_faces_in_blank_or_noise(image):
    assert detect_faces(image) == []


def test_grayscale_and_bgra_are_accepted(grace):
    gray = cv2.cvtColor(grace, cv2.COLOR_BGR2GRAY)
    bgra = cv2.cvtColor(grace, cv2.COLOR_BGR2BGRA)
    assert len(detect_faces(gray)) == 1
    assert len(detect_faces(gray[..., None])) == 1
    assert len(detect_faces(bgra)) == 1


# --- swap: result and facts ------------------------------------------------


def test_result_is_a_new_image_of_the_target_shape(swapped):
    result = swapped["result"]
    assert isinstance(result, SwapResult)
    assert result.image.shape == swapped["target"].shape
    assert result.image.dtype == np.uint8
    assert not np.shares_memory(result.image, swapped["target"])
    assert swapped["source_unchanged"] and swapped["target_unchanged"]


def test_result_reports_faces_and_timings(swapped):
    result = swapped["result"]
    assert result.faces == {"source": 1, "target": 1, "swapped": [[0, 0]]}
    assert set(result.timings_ms) >= TIMING_KEYS
    assert all(isinstance(v, float) and v >= 0 for v in result.timings_ms.values())
    parts = sum(result.timings_ms[k] for k in ("detect", "landmarks", "warp", "blend"))
    assert parts <= result.timings_ms["total"] + 1e-6


def test_swapped_face_sits_where_the_target_face_was(swapped):
    target_face = swapped["target_face"]
    faces = detect_faces(swapped["result"].image)
    assert faces, "no face detected in the output"
    best = max(faces, key=lambda f: iou(f.box, target_face.box))
    assert iou(best.box, target_face.box) > 0.6
    # Head pose kept: the output's landmarks are the target's, within a few %.
    err = np.linalg.norm(best.landmarks - target_face.landmarks, axis=1).mean()
    assert err < 0.05 * target_face.box[2]


def test_pixels_away_from_the_face_are_untouched(swapped):
    target, out = swapped["target"], swapped["result"].image
    outside = ~face_region(swapped["target_face"], target.shape)
    assert np.array_equal(out[outside], target[outside])


def test_the_face_itself_changed(swapped):
    target, out = swapped["target"], swapped["result"].image
    inner = inner_face(swapped["target_face"], target.shape)
    diff = np.abs(out.astype(int) - target.astype(int))[inner]
    assert diff.mean() > 10
    assert (diff.max(axis=1) > 20).mean() > 0.5


def test_identity_moves_to_the_source(swapped):
    src_desc = face_descriptor(swapped["source"], swapped["source_face"].landmarks)
    dst_desc = face_descriptor(swapped["target"], swapped["target_face"].landmarks)
    out = swapped["result"].image
    out_face = max(detect_faces(out), key=lambda f: iou(f.box, swapped["target_face"].box))
    out_desc = face_descriptor(out, out_face.landmarks)
    to_source = identity_distance(out_desc, src_desc)
    assert to_source < identity_distance(dst_desc, src_desc)
    assert to_source < identity_distance(out_desc, dst_desc)
    assert to_source < SAME_PERSON


def test_tone_stays_close_to_the_target(swapped):
    """Colour correction: the new face has the target's skin tone, not the source's."""
    target, out = swapped["target"], swapped["result"].image
    inner = inner_face(swapped["target_face"], target.shape)
    lab_t = cv2.cvtColor(target, cv2.COLOR_BGR2LAB)[inner].mean(axis=0)
    lab_o = cv2.cvtColor(out, cv2.COLOR_BGR2LAB)[inner].mean(axis=0)
    assert np.linalg.norm(lab_o - lab_t) < 12


def test_swap_accepts_grayscale_and_bgra(astronaut, grace):
    gray_src = cv2.cvtColor(astronaut, cv2.COLOR_BGR2GRAY)
    bgra_dst = cv2.cvtColor(grace, cv2.COLOR_BGR2BGRA)
    result = swap(gray_src, bgra_dst)
    assert result.image.shape == grace.shape
    assert result.faces["swapped"] == [[0, 0]]


# --- swap: errors -----------------------------------------------------------


@pytest.mark.parametrize("faceless", [blank(), noise()], ids=["blank", "noise"])
def test_no_face_in_source(faceless, grace):
    with pytest.raises(NoFaceDetected) as info:
        swap(faceless, grace)
    err = info.value
    assert isinstance(err, EngineError)
    assert err.code == "no_face_detected"
    assert err.details == {"image": "source"}
    assert "source" in err.message


def test_no_face_in_target(grace):
    with pytest.raises(NoFaceDetected) as info:
        swap(grace, noise())
    assert info.value.details == {"image": "target"}
    assert "target" in info.value.message


@pytest.mark.parametrize(
    ("kwargs", "details"),
    [
        ({"target_face": 1}, {"image": "target", "index": 1, "faces": 1}),
        ({"source_face": 3}, {"image": "source", "index": 3, "faces": 1}),
        ({"source_face": -1}, {"image": "source", "index": -1, "faces": 1}),
    ],
)
def test_face_index_out_of_range(astronaut, grace, kwargs, details):
    with pytest.raises(FaceIndexOutOfRange) as info:
        swap(astronaut, grace, **kwargs)
    assert info.value.code == "face_index_out_of_range"
    assert info.value.details == details


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((0, 0, 3), np.uint8),
        np.zeros((0,), np.uint8),
        np.zeros((10, 10, 2), np.uint8),
        np.zeros((64, 64, 3), np.float32),
        "not an image",
    ],
    ids=["empty", "1d", "two-channel", "float", "str"],
)
def test_nonsense_input_is_rejected(bad, grace):
    with pytest.raises(EngineError) as info:
        swap(bad, grace)
    assert info.value.code == "invalid_image_format"
    assert info.value.details["image"] == "source"
    with pytest.raises(EngineError) as info:
        detect_faces(bad)
    assert info.value.code == "invalid_image_format"


def test_engine_error_carries_code_message_details():
    err = FaceIndexOutOfRange("target", 2, 1)
    assert (err.code, err.details) == (
        "face_index_out_of_range",
        {"image": "target", "index": 2, "faces": 1},
    )
    assert str(err).startswith("face_index_out_of_range: ")
    assert err.to_dict()["message"] == err.message


# --- swap: face selection on a multi-face image ------------------------------


def test_target_face_index_selects_which_face_is_replaced(astronaut):
    mosaic, boxes = tiled_faces(FOUR_FACES)
    faces = detect_faces(mosaic)
    result = swap(astronaut, mosaic, target_face=2)
    assert result.faces["swapped"] == [[0, 2]]
    # Detection stops once the chosen face is found: smaller ones may go uncounted.
    assert result.faces["source"] == 1 and 3 <= result.faces["target"] <= 4
    chosen = face_region(faces[2], mosaic.shape)
    changed = np.any(result.image != mosaic, axis=2)
    assert changed.any() and not changed[~chosen].any()
    assert tile_of(centre(faces[2]), boxes) == 2


def test_source_face_index_selects_which_face_is_used(grace):
    mosaic, _ = tiled_faces(TWO_FACES)
    by_index = [swap(mosaic, grace, source_face=i).image for i in (0, 1)]
    assert not np.array_equal(by_index[0], by_index[1])
    faces = detect_faces(mosaic)
    src_desc = [face_descriptor(mosaic, f.landmarks) for f in faces]
    out0 = detect_faces(by_index[1])[0]
    out_desc = face_descriptor(by_index[1], out0.landmarks)
    # Swapping face 1 (the astronaut) makes the result look like face 1, not face 0.
    assert identity_distance(out_desc, src_desc[1]) < identity_distance(out_desc, src_desc[0])


# --- building blocks ----------------------------------------------------------


def test_identity_warp_reproduces_the_source(grace):
    points, size = shape.extend_landmarks(detect_faces(grace)[0].landmarks)
    h, w = grace.shape[:2]
    grid = (w // 8, h // 8)
    out = warp.warp_face(grace, points, points, shape.TRIANGLES, (w, h), grid)
    assert np.abs(out.astype(int) - grace.astype(int)).max() <= 1


def test_feathered_mask_is_zero_outside_the_face_and_one_inside():
    points = np.array([[20, 20], [80, 20], [80, 80], [20, 80]], dtype=float)
    hard = engine_mask.hull_mask(points, (100, 100), (1.0, 1.0))
    soft = engine_mask.feather(hard, erode_px=6, sigma_px=2.5)
    assert soft[hard == 0].max() == 0
    assert soft[40:60, 40:60].min() > 0.99
    assert 0 < soft[50, 27] < 1  # the seam is soft


def test_colour_gain_is_neutral_for_identical_images(grace):
    hard = np.zeros(grace.shape[:2], np.float32)
    hard[100:400, 100:400] = 1
    gain = colour.colour_gain(grace, grace, hard, sigma_px=20)
    assert np.allclose(gain[150:350, 150:350], 1.0, atol=1e-3)


def test_skin_band_drops_hair_keeps_skin():
    skin_bgr = (150, 170, 220)  # a light skin tone, BGR
    face = np.zeros((60, 60, 3), np.uint8)
    face[:] = skin_bgr
    face[:, :, 0] += np.random.default_rng(1).integers(0, 6, (60, 60), dtype=np.uint8)
    hairy = face.copy()
    hairy[0:15, 10:30] = (30, 40, 60)  # a dark-brown lock across the forehead
    landmarks = np.zeros((68, 2))
    landmarks[skin.REFERENCE] = [(5, 30), (30, 25), (55, 30), (55, 50), (30, 45), (5, 50)]
    band = np.zeros((60, 60), bool)
    band[:20] = True
    weight = skin.band_weight(hairy, face, landmarks, band, (1.0, 1.0))
    assert weight[5:10, 15:25].max() < 0.05  # hair in the source: not pasted
    assert weight[5:10, 40:55].min() > 0.95  # bare forehead: swapped
    assert weight[30:, :].min() == 1.0  # outside the band: untouched


def test_skin_reference_stats_equal_numpys():
    # The counting shortcut must give np.median's and np.percentile's numbers exactly.
    rng = np.random.default_rng(3)
    for n in [8, 9, 10, 101, 1000, 5811]:
        for spread in (0.5, 4.0, 40.0):
            ref = np.clip(rng.normal(128, spread, (3, n)), 0, 255).astype(np.uint8)
            levels = ref.astype(np.float32)
            med = np.median(levels, axis=1)
            mad = np.median(np.abs(levels[1:] - med[1:, None]), axis=1)
            got_med, got_scale, got_range = skin.reference_stats(ref)
            assert np.array_equal(got_med, med) and got_med.dtype == med.dtype
            assert np.array_equal(got_scale, np.maximum(1.4826 * mad, skin.CHROMA_FLOOR))
            assert np.array_equal(got_range, np.percentile(levels[0], [5, 95]))


def test_relief_quantiles_equal_numpys():
    # The partial sort must give np.quantile's numbers exactly, ties and all.
    rng = np.random.default_rng(5)
    for n in [1, 2, 3, 34, 1000, 5811]:
        for values in (rng.normal(0, 0.2, n), np.round(rng.normal(0, 2, n), 1)):
            values = values.astype(np.float32)
            got = exposure._outer_quantiles(values, exposure.RELIEF_Q)
            want = np.quantile(values, (exposure.RELIEF_Q, 1.0 - exposure.RELIEF_Q))
            assert np.array_equal(got, want) and got.dtype == want.dtype


def test_steps_share_a_result_within_one_face_only():
    calls = []

    def solve():
        calls.append(1)
        return len(calls)

    assert regions.once("key", solve) == 1 and regions.once("key", solve) == 2  # no scope
    with regions.face_scope():
        assert regions.once("key", solve) == 3 and regions.once("key", solve) == 3
        assert regions.once("other", solve) == 4
    with regions.face_scope():  # the next face computes afresh
        assert regions.once("key", solve) == 5


def test_a_much_larger_source_is_shrunk_before_warping(astronaut, grace):
    big_source = cv2.resize(grace, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
    small = swap(grace, astronaut).image
    big = swap(big_source, astronaut).image
    # Same face, same place: the results differ only by resampling noise.
    assert np.abs(small.astype(int) - big.astype(int)).mean() < 2.0


def test_models_load_once(grace):
    assert models.face_mesh() is models.face_mesh()
    assert models.face_detector() is models.face_detector()


# --- command line ---------------------------------------------------------------


def test_cli_swaps_and_prints_json_facts(tmp_path, grace):
    out = tmp_path / "out.png"
    proc = run_engine_cli(fixture_path(ASTRONAUT), fixture_path(GRACE_HOPPER), out)
    assert proc.returncode == 0, proc.stderr
    written = cv2.imread(str(out))
    assert written is not None and written.shape == grace.shape
    facts = json.loads(proc.stdout.strip().splitlines()[-1])
    assert facts["faces"] == {"source": 1, "target": 1, "swapped": [[0, 0]]}
    assert set(facts["timings_ms"]) == {
        "decode", "detect", "landmarks", "warp", "blend", "encode", "total"
    }  # fmt: skip
    assert all(v >= 0 for v in facts["timings_ms"].values())


def test_cli_selects_faces_by_index(tmp_path):
    mosaic_path = tmp_path / "mosaic.png"
    cv2.imwrite(str(mosaic_path), tiled_faces(TWO_FACES)[0])
    out = tmp_path / "out.jpg"
    proc = run_engine_cli(fixture_path(ASTRONAUT), mosaic_path, out, "--target-face", "1")
    assert proc.returncode == 0, proc.stderr
    facts = json.loads(proc.stdout.strip().splitlines()[-1])
    assert facts["faces"] == {"source": 1, "target": 2, "swapped": [[0, 1]]}


def test_cli_reports_engine_errors_on_stderr(tmp_path):
    faceless = tmp_path / "blank.png"
    cv2.imwrite(str(faceless), blank())
    out = tmp_path / "out.png"
    proc = run_engine_cli(faceless, fixture_path(GRACE_HOPPER), out)
    assert proc.returncode == 2
    assert "no_face_detected" in proc.stderr and "source" in proc.stderr
    assert not out.exists()


def test_cli_rejects_undecodable_input(tmp_path):
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not a jpeg at all")
    proc = run_engine_cli(junk, fixture_path(GRACE_HOPPER), tmp_path / "o.png")
    assert proc.returncode == 2
    assert "invalid_image_format" in proc.stderr


def _cli_swap(tmp_path: Path, *options: str) -> np.ndarray:
    out = tmp_path / f"out{len(list(tmp_path.iterdir()))}.png"
    proc = run_engine_cli(fixture_path(ASTRONAUT), fixture_path(GRACE_HOPPER), out, *options)
    assert proc.returncode == 0, proc.stderr
    return cv2.imread(str(out)).astype(np.int16)


def test_cli_passes_likeness_and_enhance_to_the_engine(tmp_path):
    default = _cli_swap(tmp_path)
    assert np.array_equal(_cli_swap(tmp_path, "--likeness", "0.85"), default)
    for options in (("--likeness", "0"), ("--enhance",)):
        assert np.abs(_cli_swap(tmp_path, *options) - default).mean() > 0.05, options


def test_cli_refuses_a_likeness_out_of_range(tmp_path):
    proc = run_engine_cli(
        fixture_path(ASTRONAUT), fixture_path(GRACE_HOPPER), tmp_path / "o.png", "--likeness", "1.5"
    )
    assert proc.returncode == 2
    assert "invalid_option" in proc.stderr and "likeness" in proc.stderr
