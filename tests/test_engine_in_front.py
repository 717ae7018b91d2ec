"""Things held in front of the target's face stay on the new face (in_front.py):
objects drawn across a target's cheek survive the swap, the rest of the face
is the source's, and a bare face (shadows and beards too) is swapped exactly
as before."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from benchmarks.occluder_detection import coloured_light, draw_object, judged
from swaps.engine import SwapOptions, detect_faces, in_front
from tests.images import assert_identity_transferred

pytestmark = pytest.mark.usefixtures("engine_models")

RED, GREEN, BLUE = (40, 40, 190), (60, 150, 60), (170, 90, 40)


def iod_of(marks: np.ndarray) -> float:
    return float(np.linalg.norm(marks[36:42].mean(axis=0) - marks[42:48].mean(axis=0)))


def swap_with(source: np.ndarray, target: np.ndarray, keep: bool) -> np.ndarray:
    from swaps.engine.pipeline import swap_face

    src, marks = (detect_faces(image)[0].landmarks for image in (source, target))
    return swap_face(source, src, target, marks, SwapOptions(keep_occluders=keep))


def target_with(image: np.ndarray, colour, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    marks = detect_faces(image)[0].landmarks
    drawn, core = draw_object(image, marks, colour, kind)
    return drawn, core, marks


@pytest.mark.parametrize(
    "colour,kind", [(RED, "cheek"), (BLUE, "cheek"), (BLUE, "diag"), (GREEN, "diag"), (RED, "mic")]
)
def test_an_object_across_the_face_survives_the_swap(astronaut, colour, kind):
    from swaps.engine.pipeline import swap_face

    source = np.ascontiguousarray(astronaut[:, ::-1])  # another face, no object
    target, core, marks = target_with(astronaut, colour, kind)
    src = detect_faces(source)[0].landmarks

    def error(keep: bool) -> tuple[float, np.ndarray]:
        out = swap_face(source, src, target, marks, SwapOptions(keep_occluders=keep))
        diff = np.abs(out.astype(np.int16) - target.astype(np.int16)).max(axis=2)
        return float(np.median(diff[core & face_region_of(marks, target.shape)])), out

    without, _ = error(False)
    kept, out = error(True)
    assert without > 40  # without the step the source's face covers it
    assert kept < 6  # with it the result there is the target's
    # Away from the object the face is the source's: the mouth, the other eye.
    away = face_region_of(marks, target.shape) & ~cv2.dilate(
        (core > 0).astype(np.uint8), np.ones((41, 41), np.uint8)
    ).astype(bool)
    changed = np.abs(out.astype(np.int16) - target.astype(np.int16)).max(axis=2)[away]
    assert np.mean(changed > 20) > 0.3


def face_region_of(marks: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """bool: the 68 points' hull."""
    out = np.zeros(shape[:2], np.uint8)
    cv2.fillConvexPoly(out, cv2.convexHull(np.round(marks).astype(np.int32)), 1)
    return out > 0


def test_identity_is_still_transferred_with_an_object_kept(grace, astronaut):
    target, _, marks = target_with(astronaut, RED, "cheek")
    out = swap_with(grace, target, keep=True)
    assert_identity_transferred(out, grace, target, marks)


@pytest.mark.parametrize("direction", ["grace_into_astronaut", "astronaut_into_grace"])
def test_a_bare_face_is_swapped_exactly_as_before(grace, astronaut, direction):
    source, target = (
        (grace, astronaut) if direction == "grace_into_astronaut" else (astronaut, grace)
    )
    outs = [swap_with(source, target, keep) for keep in (True, False)]
    assert np.array_equal(outs[0], outs[1])


def test_nothing_is_found_on_the_bare_fixtures_and_the_object_on_them(grace, astronaut):
    for image in (grace, astronaut):
        marks = detect_faces(image)[0].landmarks
        assert judged(image, marks) is False
        assert judged(draw_object(image, marks, BLUE, "cheek")[0], marks) is True


def test_a_deep_shadow_over_half_the_face_is_not_an_object(astronaut):
    """Half the face at a seventh of its light, the shadow's edge soft and down
    the nose: dark, entering across the outline, but still skin."""
    marks = detect_faces(astronaut)[0].landmarks
    h, w = astronaut.shape[:2]
    ramp = np.clip((np.arange(w) - marks[30, 0]) / (0.15 * iod_of(marks)), -1.0, 1.0)
    light = (0.575 + 0.425 * ramp)[None, :, None] * np.ones((h, 1, 1))
    shaded = np.clip(astronaut * light, 0, 255).astype(np.uint8)
    assert judged(shaded, marks) is False


@pytest.mark.parametrize("gains", [(0.7, 1.15, 0.7), (1.5, 1.0, 0.65)])
def test_a_coloured_light_over_half_the_face_is_not_an_object(astronaut, grace, gains):
    """Green or blue light on one side: that side's colour is far from the
    skin's and it enters from outside, but it fades in over the face's curve."""
    for image in (astronaut, grace):
        marks = detect_faces(image)[0].landmarks
        assert judged(coloured_light(image, marks, gains, 0.1), marks) is False


@pytest.mark.parametrize(
    "low,high",
    [
        ((20, 20, 20), (70, 70, 70)),
        ((40, 80, 150), (70, 120, 200)),
        ((185, 175, 165), (230, 220, 210)),
    ],
    ids=["dark", "ginger", "grey in blue shade"],
)
def test_a_beard_across_the_jaw_is_not_an_object(astronaut, low, high):
    """A full beard, grainy, sharp-edged, from below the jaw over the chin, the
    jaw and the cheeks up to the line from the ears to the nostrils."""
    marks = detect_faces(astronaut)[0].landmarks
    iod = iod_of(marks)
    beard = np.zeros(astronaut.shape[:2], np.uint8)
    jaw = np.vstack([marks[1:16], marks[35], marks[31]])
    cv2.fillPoly(beard, [np.round(jaw).astype(np.int32)], 1)
    cv2.polylines(beard, [np.round(marks[2:15]).astype(np.int32)], False, 1, round(0.3 * iod))
    share = np.random.default_rng(3).random(astronaut.shape[:2])[..., None]
    grain = np.asarray(low) + share * (np.asarray(high) - np.asarray(low))
    bearded = np.where(beard[..., None] > 0, grain, astronaut).astype(np.uint8)
    bearded = cv2.GaussianBlur(bearded, (3, 3), 0)
    assert judged(bearded, marks) is False


def test_faces_partly_outside_the_image_raise_nothing(astronaut):
    marks = detect_faces(astronaut)[0].landmarks
    h, w = astronaut.shape[:2]
    for dx, dy in ((-0.35, 0), (0.3, 0), (0, -0.3), (0, 0.4), (0.3, 0.3), (0, -2), (2, 0)):
        found = in_front.occluder_mask(astronaut, marks + (dx * w, dy * h), 80.0)
        assert found is None or found.shape == (h, w)
