"""The engine's multi-face modes, saved faces and failure codes, on real faces.

Multi-face photos are mosaics of the two fixtures (tests/images.py): in
TWO_FACES face 0 is Grace Hopper and face 1 the (mirrored) astronaut; in
FOUR_FACES faces 0 and 2 are Grace Hopper, 1 and 3 the astronaut. "Looks like
X" is judged by dlib's descriptor: the output face moved closer to X.
No timing assertions: speed is measured by benchmarks/engine_modes.py.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from swaps.engine import (
    EngineError,
    FaceCountMismatch,
    FaceIdentity,
    FaceIndexOutOfRange,
    FaceNotSwappable,
    NoFaceDetected,
    detect_faces,
    face_descriptor,
    face_identity,
    parse_indices,
    prepare_sources,
    swap,
    swap_faces,
    unswappable_reason,
)
from swaps.engine import multi as engine_multi
from swaps.engine.checks import MAX_OUTSIDE, outside_fraction
from swaps.engine.detect import find_face_boxes, place_points
from swaps.engine.identity import CROP_MAX_SIDE, MAGIC
from swaps.engine.pipeline import swap_face
from swaps.engine.quality import SAME_PERSON, identity_distance
from tests.engine_helpers import iou, only_faces_changed, run_engine_cli
from tests.images import (
    ASTRONAUT,
    FOUR_FACES,
    GRACE_HOPPER,
    TWO_FACES,
    Tile,
    fixture_path,
    load_fixture,
    tiled_faces,
)

pytestmark = pytest.mark.usefixtures("engine_models")
GRACE, ASTRO = "grace", "astro"
# Who is who in the mosaics, by face index (largest first).
TWO_WHO = [GRACE, ASTRO]
FOUR_WHO = [GRACE, ASTRO, GRACE, ASTRO]
# Three astronauts of clearly different sizes, for "one face into all of them".
ASTRONAUTS = (Tile(ASTRONAUT, 1.6), Tile(ASTRONAUT, 1.25, flip=True), Tile(ASTRONAUT, 1.0))


@pytest.fixture(scope="module")
def people(astronaut, grace) -> dict[str, np.ndarray]:
    """The descriptor of each fixture person, from the untouched photos."""
    return {
        GRACE: face_descriptor(grace, detect_faces(grace)[0].landmarks),
        ASTRO: face_descriptor(astronaut, detect_faces(astronaut)[0].landmarks),
    }


@pytest.fixture(scope="module")
def two() -> np.ndarray:
    return tiled_faces(TWO_FACES)[0]


@pytest.fixture(scope="module")
def four() -> np.ndarray:
    return tiled_faces(FOUR_FACES)[0]


# --- helpers ------------------------------------------------------------------------


def descriptors_at(before: np.ndarray, after: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each face of ``before`` (largest first): its descriptor before and the
    descriptor of the face at the same place in ``after``."""
    found = detect_faces(after)
    pairs = []
    for face in detect_faces(before):
        same = max(found, key=lambda f: iou(f.box, face.box))
        assert iou(same.box, face.box) > 0.5, "a face went missing"
        pairs.append(
            (face_descriptor(before, face.landmarks), face_descriptor(after, same.landmarks))
        )
    return pairs


def looks_more_like(before_after: tuple[np.ndarray, np.ndarray], person: np.ndarray) -> bool:
    """The face moved towards ``person`` and now passes as them."""
    before, after = before_after
    now = identity_distance(after, person)
    return now < identity_distance(before, person) and now < SAME_PERSON


def cut_face(image: np.ndarray, face: int, fraction: float) -> np.ndarray:
    """``image`` cropped at the right so ``fraction`` of face ``face``'s width is lost."""
    points = detect_faces(image)[face].landmarks
    x0, x1 = points[:, 0].min(), points[:, 0].max()
    return np.ascontiguousarray(image[:, : int(x1 - fraction * (x1 - x0))])


# The nose stands out of a cylinder-shaped head, in face half-widths.
NOSE_DEPTH = {27: 0.10, 28: 0.17, 29: 0.25, 30: 0.35, 31: 0.15, 32: 0.2, 33: 0.25, 34: 0.2}


def turned(landmarks: np.ndarray, degrees: float) -> np.ndarray:
    """Landmarks of the same face with the head turned ``degrees`` to one side:
    a crude head (a cylinder, the nose standing out) rotated and projected."""
    centre = landmarks.mean(axis=0)
    radius = np.linalg.norm(landmarks[16] - landmarks[0]) / 2
    u = np.clip((landmarks[:, 0] - centre[0]) / radius, -1, 1)
    depth = radius * np.sqrt(1 - u**2)
    for k, d in NOSE_DEPTH.items():
        depth[k] += d * radius
    angle = np.radians(degrees)
    out = landmarks.copy()
    out[:, 0] = centre[0] + (landmarks[:, 0] - centre[0]) * np.cos(angle) + depth * np.sin(angle)
    return out


# --- many faces -----------------------------------------------------------------------


def test_one_source_face_goes_into_every_target_face(grace, people):
    crowd = tiled_faces(ASTRONAUTS, columns=3)[0]
    result = swap_faces(crowd, sources=[grace], target_indices="all")
    assert result.faces == {"source": 1, "target": 3, "swapped": [[0, 0], [0, 1], [0, 2]]}
    assert all(looks_more_like(p, people[GRACE]) for p in descriptors_at(crowd, result.image))
    assert only_faces_changed(crowd, result.image, [0, 1, 2])


def test_comma_lists_pair_source_k_with_target_k(two, four, people):
    result = swap_faces(
        four, sources=[two], source_indices=parse_indices("0,1"), target_indices=[1, 2]
    )
    assert result.faces["swapped"] == [[0, 1], [1, 2]]
    assert result.faces["source"] == 2 and result.faces["target"] >= 3  # counts: see below
    faces = descriptors_at(four, result.image)
    assert looks_more_like(faces[1], people[GRACE])  # Grace went into astronaut 1
    assert looks_more_like(faces[2], people[ASTRO])  # the astronaut into Grace 2
    assert only_faces_changed(four, result.image, [1, 2])  # faces 0 and 3 untouched


def test_several_source_photos_are_numbered_together(astronaut, grace, two, people):
    # Source faces: 0 = the astronaut photo, 1 = Grace's photo, 2 and 3 = the mosaic's.
    result = swap_faces(
        two, sources=[astronaut, grace, two], source_indices=[3, 1], target_indices=[0, 1]
    )
    assert result.faces == {"source": 4, "target": 2, "swapped": [[3, 0], [1, 1]]}
    faces = descriptors_at(two, result.image)
    assert looks_more_like(faces[0], people[ASTRO])
    assert looks_more_like(faces[1], people[GRACE])


def test_couple_swap_two_faces_into_two_faces(two, people):
    target = cv2.flip(two, 1)  # the same couple, mirrored: Grace is still face 0
    result = swap_faces(target, sources=[two], source_indices=[0, 1], target_indices=[1, 0])
    assert result.faces["swapped"] == [[0, 1], [1, 0]]
    faces = descriptors_at(target, result.image)
    assert looks_more_like(faces[0], people[ASTRO])
    assert looks_more_like(faces[1], people[GRACE])


def test_without_sources_the_two_largest_faces_trade_places(two, people):
    """Face 0 goes into face 1 first; face 1 still gives its *original* look to
    face 0 afterwards, so the two really exchange."""
    result = swap_faces(two)
    assert result.faces == {"source": 2, "target": 2, "swapped": [[0, 1], [1, 0]]}
    faces = descriptors_at(two, result.image)
    assert looks_more_like(faces[0], people[ASTRO])
    assert looks_more_like(faces[1], people[GRACE])
    assert only_faces_changed(two, result.image, [0, 1])


def test_self_swap_of_all_faces_passes_each_face_on(four, people):
    result = swap_faces(four, target_indices="all")
    # Each face takes the next one's: 1 -> 0, 2 -> 1, 3 -> 2, 0 -> 3.
    assert result.faces["swapped"] == [[1, 0], [2, 1], [3, 2], [0, 3]]
    faces = descriptors_at(four, result.image)
    expected = [ASTRO, GRACE, ASTRO, GRACE]
    assert all(looks_more_like(f, people[who]) for f, who in zip(faces, expected, strict=True))


def test_self_swap_skips_a_face_given_itself(four):
    result = swap_faces(four, source_indices=[0], target_indices="all")
    assert result.faces["swapped"] == [[0, 1], [0, 2], [0, 3]]
    assert only_faces_changed(four, result.image, [1, 2, 3])


def resized(image: np.ndarray, factor: float) -> np.ndarray:
    return cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)


def test_a_source_face_enlarged_many_times_is_reported_as_soft(grace, astronaut):
    result = swap(resized(grace, 0.2), resized(astronaut, 2.0))

    (warning,) = result.faces["warnings"]
    assert warning["code"] == "source_face_enlarged"
    assert (warning["source"], warning["target"]) == (0, 0)
    assert 4.0 < warning["scale"] < 7.0
    assert f"{warning['scale']:.1f}x" in warning["message"]


def test_faces_of_like_size_carry_no_warning(grace, astronaut):
    assert "warnings" not in swap(grace, astronaut).faces
    assert "warnings" not in swap(resized(grace, 0.5), astronaut).faces  # ~2x: sharp enough


def test_only_the_enlarged_pair_is_reported(grace, two):
    small = resized(grace, 0.15)
    result = swap_faces(two, sources=[grace, small], source_indices=[0, 1], target_indices=[0, 1])

    assert [(w["source"], w["target"]) for w in result.faces["warnings"]] == [(1, 1)]


def test_inputs_are_not_modified(two, astronaut):
    before = two.copy(), astronaut.copy()
    swap_faces(two)
    swap_faces(two, sources=[astronaut], target_indices="all")
    assert np.array_equal(two, before[0]) and np.array_equal(astronaut, before[1])


@pytest.mark.parametrize(("reference", "expected"), [(GRACE_HOPPER, 0), (ASTRONAUT, 1)])
def test_reference_picks_the_target_face_most_like_it(two, grace, reference, expected):
    # The reference is a different photo of the person: mirrored and smaller.
    photo = cv2.resize(cv2.flip(load_fixture(reference), 1), None, fx=0.8, fy=0.8)
    result = swap_faces(two, sources=[grace], reference_bgr=photo)
    chosen = result.faces["reference"]
    assert chosen["index"] == expected
    assert 0 <= chosen["distance"] < SAME_PERSON
    assert result.faces["swapped"] == [[0, expected]]
    assert "descriptor" in result.timings_ms
    assert only_faces_changed(two, result.image, [expected])


def test_each_pair_gives_the_pixels_swap_face_gives(astronaut, four):
    """swap_faces hands swap_face only the region around each target face; the
    result is bit-exact what swap_face gives on the whole photo."""
    faces = [place_points(four, d) for d in find_face_boxes(four)]
    source = place_points(astronaut, find_face_boxes(astronaut)[0])
    whole = swap_face(astronaut, source, four, faces[1])
    whole = swap_face(astronaut, source, whole, faces[2])
    result = swap_faces(four, sources=[astronaut], target_indices=[1, 2])
    assert np.array_equal(result.image, whole)


def test_prepared_sources_serve_many_targets(two, four, grace, astronaut):
    """Sources detected once (as for the frames of an animation) give the same
    swaps as passing the photos each time."""
    prepared = prepare_sources([grace, astronaut])
    assert prepared.count == 2
    for target in (two, four, cv2.flip(four, 1)):
        pairs = {"source_indices": [1, 0], "target_indices": [0, 1]}
        direct = swap_faces(target, sources=[grace, astronaut], **pairs)
        again = swap_faces(target, prepared=prepared, **pairs)
        assert again.faces == direct.faces
        assert np.array_equal(again.image, direct.image)


def test_counts_cover_every_face_in_every_mode(four, grace):
    assert swap_faces(four, sources=[grace]).faces["target"] == 4
    assert swap_faces(four, sources=[grace], target_indices="all").faces["target"] == 4
    assert swap_faces(four, sources=[grace], reference_bgr=grace).faces["target"] == 4
    assert swap_faces(four, target_indices="all").faces["source"] == 4
    assert swap_faces(grace, sources=[four]).faces["source"] == 4


def test_swap_is_the_one_face_form(astronaut, four):
    one = swap(astronaut, four, target_face=2)
    many = swap_faces(four, sources=[astronaut], target_indices=[2])
    assert one.faces == many.faces and one.faces["swapped"] == [[0, 2]]
    assert np.array_equal(one.image, many.image)


# --- saved faces ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def grace_saved(grace) -> FaceIdentity:
    return face_identity(grace)


def test_saved_face_keeps_crop_landmarks_and_descriptor(grace_saved, people):
    saved = grace_saved
    h, w = saved.crop.shape[:2]
    assert saved.crop.dtype == np.uint8 and max(h, w) <= CROP_MAX_SIDE
    assert saved.landmarks.shape == (68, 2)
    assert (saved.landmarks >= 0).all() and (saved.landmarks < (w, h)).all()
    assert saved.descriptor.shape == (128,) and saved.descriptor.dtype == np.float32
    assert identity_distance(saved.descriptor, people[GRACE]) < 0.05


def test_saved_face_round_trips_through_bytes(grace_saved):
    data = grace_saved.to_bytes()
    assert isinstance(data, bytes) and len(data) < 120_000
    back = FaceIdentity.from_bytes(data)
    assert back.crop.shape == grace_saved.crop.shape
    # JPEG quality 95: the crop comes back within a few levels.
    assert np.abs(back.crop.astype(int) - grace_saved.crop).mean() < 2.0
    assert np.allclose(back.landmarks, grace_saved.landmarks, atol=1e-3)
    assert np.allclose(back.descriptor, grace_saved.descriptor, atol=1e-6)


def test_a_saved_face_swaps_like_the_photo(grace, astronaut, grace_saved):
    saved = FaceIdentity.from_bytes(grace_saved.to_bytes())
    from_photo = swap(grace, astronaut)
    from_saved = swap_faces(astronaut, identities=[saved])
    assert from_saved.faces == {"source": 1, "target": 1, "swapped": [[0, 0]]}
    diff = np.abs(from_saved.image.astype(int) - from_photo.image)
    assert diff.mean() < 0.5 and np.percentile(diff, 99.9) <= 8


def test_saved_faces_are_numbered_after_the_photos(astronaut, two, grace_saved, people):
    result = swap_faces(
        two, sources=[astronaut], identities=[grace_saved], source_indices=[1, 0],
        target_indices=[1, 0],
    )  # fmt: skip
    assert result.faces == {"source": 2, "target": 2, "swapped": [[1, 1], [0, 0]]}
    faces = descriptors_at(two, result.image)
    assert looks_more_like(faces[1], people[GRACE])
    assert looks_more_like(faces[0], people[ASTRO])


def test_a_large_photo_is_saved_as_a_small_crop(grace, astronaut):
    big = cv2.resize(grace, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
    saved = face_identity(big)
    assert max(saved.crop.shape[:2]) <= CROP_MAX_SIDE
    result = swap_faces(astronaut, identities=[saved])
    assert result.faces["swapped"] == [[0, 0]]


def test_saving_needs_exactly_one_face(two):
    with pytest.raises(NoFaceDetected) as info:
        face_identity(np.full((300, 300, 3), 90, np.uint8))
    assert info.value.details == {"image": "image"}
    with pytest.raises(FaceCountMismatch) as info:
        face_identity(two)
    assert info.value.code == "face_count_mismatch"
    assert info.value.details == {"image": "image", "faces": 2}
    assert "one face" in info.value.message


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not a saved face",
        MAGIC + bytes(100),  # truncated
        MAGIC + bytes(2000),  # numbers, but no picture
    ],
)
def test_corrupt_saved_face_is_refused(data):
    with pytest.raises(EngineError) as info:
        FaceIdentity.from_bytes(data)
    assert info.value.code == "invalid_face_identity"


# --- failures --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "details"),
    [
        ({"source_indices": [0, 1], "target_indices": [0, 1, 2]}, {"source": 2, "target": 3}),
        ({"source_indices": [0, 1], "target_indices": [3]}, {"source": 2, "target": 1}),
        ({"source_indices": "all", "target_indices": [0, 1, 2]}, {"source": 2, "target": 3}),
    ],
)
def test_face_count_mismatch(two, four, kwargs, details):
    with pytest.raises(FaceCountMismatch) as info:
        swap_faces(four, sources=[two], **kwargs)
    assert info.value.code == "face_count_mismatch"
    assert info.value.details == details


def test_reference_with_several_source_faces_is_a_count_mismatch(two, grace):
    with pytest.raises(FaceCountMismatch) as info:
        swap_faces(two, sources=[two], source_indices=[0, 1], reference_bgr=grace)
    assert info.value.details == {"source": 2, "target": 1}


def test_self_swap_needs_two_faces(grace):
    with pytest.raises(FaceCountMismatch) as info:
        swap_faces(grace)
    assert info.value.details == {"source": 1, "target": 1}
    assert "two" in info.value.message


@pytest.mark.parametrize(
    ("kwargs", "details"),
    [
        ({"source_indices": [2]}, {"image": "source", "index": 2, "faces": 2}),
        ({"target_indices": [0, 4]}, {"image": "target", "index": 4, "faces": 4}),
        ({"target_indices": [-1]}, {"image": "target", "index": -1, "faces": 4}),
    ],
)
def test_face_index_out_of_range(astronaut, grace, four, kwargs, details):
    with pytest.raises(FaceIndexOutOfRange) as info:
        swap_faces(four, sources=[astronaut, grace], **kwargs)
    assert info.value.code == "face_index_out_of_range"
    assert info.value.details == details


def test_no_face_names_the_image(astronaut, grace, two):
    blank = np.full((240, 320, 3), 200, np.uint8)
    cases = [
        ({"sources": [astronaut, blank]}, two, "source_2"),
        ({"sources": [blank]}, two, "source"),
        ({"sources": [grace], "reference_bgr": blank}, two, "reference"),
        ({"sources": [grace]}, blank, "target"),
        ({}, blank, "target"),
    ]
    for kwargs, target, image in cases:
        with pytest.raises(NoFaceDetected) as info:
            swap_faces(target, **kwargs)
        assert info.value.details == {"image": image}
        assert image in info.value.message


@pytest.mark.parametrize(
    "kwargs",
    [
        {"target_indices": [0], "reference_bgr": "grace"},  # a reference replaces the indices
        {"sources": [], "reference_bgr": "grace"},  # a reference needs a source face
        {"target_indices": [1, 1]},  # one face cannot take two sources
        {"target_indices": [True]},
        {"source_indices": []},
        {"target_indices": "some"},
        {"sources": "grace"},  # one image, not a list of images
        {"prepared": "grace"},  # prepared sources and sources
    ],
)
def test_contradictory_or_malformed_requests(two, grace, kwargs):
    kwargs = {"sources": [grace], **kwargs}
    for key, value in kwargs.items():
        if isinstance(value, str) and value == "grace":
            kwargs[key] = prepare_sources([grace]) if key == "prepared" else grace
    with pytest.raises(EngineError) as info:
        swap_faces(two, **kwargs)
    assert info.value.code == "invalid_option"


def test_parse_indices_reads_text_lists_and_all():
    assert parse_indices(None) is None
    assert parse_indices("all") == parse_indices(" ALL ") == "all"
    assert parse_indices("0, 1") == [0, 1]
    assert parse_indices("2") == parse_indices(2) == [2]
    for bad in ("", "0,,1", "one", "1.5"):
        with pytest.raises(EngineError) as info:
            parse_indices(bad)
        assert info.value.code == "invalid_option"


# --- faces that cannot be swapped well -------------------------------------------------------


def test_real_frontal_faces_pass_the_checks(astronaut, grace, four):
    for image in (astronaut, grace, four, tiled_faces(ASTRONAUTS, columns=3)[0]):
        for face in detect_faces(image):
            assert unswappable_reason(face.landmarks, image.shape) is None


def test_a_face_cut_by_the_border_is_refused(grace, astronaut):
    cut = cut_face(grace, 0, 0.3)  # a third of the face is gone
    assert len(detect_faces(cut)) == 1, "the detector still finds the cut face"
    with pytest.raises(FaceNotSwappable) as info:
        swap_faces(cut, sources=[astronaut])
    err = info.value
    assert err.code == "face_not_swappable"
    assert err.details == {"image": "target", "index": 0, "reason": "cut_off"}
    assert "face 0 of the target image" in err.message and "cut off" in err.message
    with pytest.raises(FaceNotSwappable) as info:
        swap_faces(astronaut, sources=[cut])
    assert info.value.details == {"image": "source", "index": 0, "reason": "cut_off"}
    # Cut in half, the face is not even found: refused all the same, never pasted.
    for photo, other in ((grace, astronaut), (astronaut, grace)):
        with pytest.raises((FaceNotSwappable, NoFaceDetected)):
            swap_faces(cut_face(photo, 0, 0.5), sources=[other])


def test_a_slightly_trimmed_face_still_swaps(grace, astronaut):
    trimmed = cut_face(grace, 0, 0.04)
    face = detect_faces(trimmed)[0]
    assert 0 < outside_fraction(face.landmarks, trimmed.shape) < MAX_OUTSIDE
    assert swap_faces(trimmed, sources=[astronaut]).faces["swapped"] == [[0, 0]]


def test_only_the_faces_swapped_are_checked(two, astronaut):
    cut = cut_face(two, 1, 0.3)  # the astronaut (face 1) loses a third at the right edge
    assert len(detect_faces(cut)) == 2
    assert swap_faces(cut, sources=[astronaut], target_indices=[0]).faces["swapped"] == [[0, 0]]
    with pytest.raises(FaceNotSwappable) as info:
        swap_faces(cut, sources=[astronaut], target_indices=[0, 1])
    assert info.value.details == {"image": "target", "index": 1, "reason": "cut_off"}
    with pytest.raises(FaceNotSwappable) as info:
        swap_faces(cut)  # the self swap uses face 1 as a source too
    assert info.value.details["index"] == 1


@pytest.mark.parametrize("name", [GRACE_HOPPER, ASTRONAUT])
def test_a_face_turned_into_profile_is_refused(name):
    image = load_fixture(name)
    landmarks = detect_faces(image)[0].landmarks
    assert unswappable_reason(turned(landmarks, 20), image.shape) is None
    assert unswappable_reason(turned(landmarks, -20), image.shape) is None
    assert unswappable_reason(turned(landmarks, 75), image.shape) == "turned_away"
    assert unswappable_reason(turned(landmarks, -75), image.shape) == "turned_away"
    # A head turned 75 degrees the other way but viewed in a tilted photo: still a profile.
    centre = landmarks.mean(axis=0)
    tilt = cv2.getRotationMatrix2D(tuple(centre), 25, 1.0)
    tilted = np.hstack([turned(landmarks, 75), np.ones((68, 1))]) @ tilt.T
    assert unswappable_reason(tilted, image.shape) == "turned_away"


def test_a_turned_face_names_image_and_index(monkeypatch, two, astronaut):
    """The landmark model reports face 1 of the target in profile."""
    real = engine_multi.place_points

    def profile_for_face_1(image, rect):
        points = real(image, rect)
        return turned(points, 75) if image is two and rect.box[0] > two.shape[1] / 2 else points

    monkeypatch.setattr(engine_multi, "place_points", profile_for_face_1)
    swap_faces(two, sources=[astronaut], target_indices=[0])
    with pytest.raises(FaceNotSwappable) as info:
        swap_faces(two, sources=[astronaut], target_indices="all")
    assert info.value.details == {"image": "target", "index": 1, "reason": "turned_away"}
    assert "turned" in info.value.message


def test_a_tiny_face_is_refused(grace):
    landmarks = detect_faces(grace)[0].landmarks
    tiny = (landmarks - landmarks.min(axis=0)) * 0.07 + 10
    assert unswappable_reason(tiny, grace.shape) == "too_small"


# --- command line -----------------------------------------------------------------------------


def facts_of(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def two_path(tmp_path_factory, two) -> Path:
    path = tmp_path_factory.mktemp("modes") / "two.png"
    cv2.imwrite(str(path), two)
    return path


def test_cli_several_sources_and_index_lists(tmp_path, two_path):
    out = tmp_path / "out.png"
    proc = run_engine_cli(
        two_path, out, "--source", fixture_path(ASTRONAUT), "--source", fixture_path(GRACE_HOPPER),
        "--source-face", "0,1", "--target-face", "all",
    )  # fmt: skip
    assert facts_of(proc)["faces"] == {"source": 2, "target": 2, "swapped": [[0, 0], [1, 1]]}
    assert cv2.imread(str(out)).shape == cv2.imread(str(two_path)).shape


def test_cli_self_swap(tmp_path, two_path):
    facts = facts_of(run_engine_cli(two_path, tmp_path / "out.jpg", "--self"))
    assert facts["faces"] == {"source": 2, "target": 2, "swapped": [[0, 1], [1, 0]]}


def test_cli_reference_reports_the_choice(tmp_path, two_path):
    proc = run_engine_cli(
        fixture_path(GRACE_HOPPER), two_path, tmp_path / "out.png",
        "--reference", fixture_path(ASTRONAUT),
    )  # fmt: skip
    facts = facts_of(proc)
    assert facts["faces"]["reference"]["index"] == 1
    assert facts["faces"]["swapped"] == [[0, 1]]
    assert facts["timings_ms"]["descriptor"] > 0


def test_cli_saved_face_round_trip(tmp_path, two_path):
    saved = tmp_path / "grace.face"
    facts = facts_of(run_engine_cli("save-face", fixture_path(GRACE_HOPPER), saved))
    assert facts["identity"]["bytes"] == saved.stat().st_size > 0
    out = tmp_path / "out.png"
    facts = facts_of(run_engine_cli(fixture_path(ASTRONAUT), out, "--identity", saved))
    assert facts["faces"] == {"source": 1, "target": 1, "swapped": [[0, 0]]}
    refused = run_engine_cli("save-face", two_path, tmp_path / "two.face")
    assert refused.returncode == 2 and "face_count_mismatch" in refused.stderr


def test_cli_needs_a_source_or_self(tmp_path, two_path):
    proc = run_engine_cli(two_path, tmp_path / "out.png")
    assert proc.returncode == 2 and "--self" in proc.stderr
    proc = run_engine_cli(two_path, tmp_path / "out.png", "--self", "--source", two_path)
    assert proc.returncode == 2
