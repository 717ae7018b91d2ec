"""The source's background at the lower face's outline is left out of the blend
(fringe.py): a coloured wall that the jaw's landmarks take in is not pasted
along the target's jaw, the source's beard stays, and a bare source keeps its
whole face."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from swaps.engine import SwapOptions, detect_faces, fringe, pasted
from swaps.engine.pipeline import swap_face

pytestmark = pytest.mark.usefixtures("engine_models")

# A green screen, BGR; and a dark-brown beard.
SCREEN_GREEN = (40, 200, 30)
BEARD_BROWN = (30, 45, 70)


def _marks(image: np.ndarray) -> np.ndarray:
    return detect_faces(image)[0].landmarks


def _iod(marks: np.ndarray) -> float:
    return float(np.linalg.norm(marks[36:42].mean(axis=0) - marks[42:48].mean(axis=0)))


def _outward(marks: np.ndarray) -> np.ndarray:
    """Unit vectors from the face's centre out through the jaw's points 2-14."""
    away = marks[2:15] - marks[:68].mean(axis=0)
    return away / np.linalg.norm(away, axis=1, keepdims=True)


def on_screen(image: np.ndarray, marks: np.ndarray, widen: float = 0.12):
    """A copy of ``image`` with everything outside its face below the eyes
    green, and its 68 ``marks`` with the jaw (points 2-14) moved ``widen``
    eye distances outwards: the green enters the swapped outline's edge, as a
    wall does where the jaw's landmarks miss the face's edge."""
    out = image.copy()
    face = np.zeros(image.shape[:2], np.uint8)
    cv2.fillConvexPoly(face, cv2.convexHull(np.round(marks[:68]).astype(np.int32)), 1)
    below = np.arange(image.shape[0])[:, None] > marks[36:48, 1].mean()
    out[(face == 0) & below] = SCREEN_GREEN
    wide = marks.astype(np.float64)
    wide[2:15] += _outward(marks) * widen * _iod(marks)
    return out, wide


def beard(image: np.ndarray, marks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A copy of ``image`` with a beard along the jaw (points 2-14 moved 0.1 eye
    distances in, a line 0.25 wide: over the outline's edge band and further
    in, as a beard grows over the cheeks and chin); and the beard (bool)."""
    curve = marks[2:15] - _outward(marks) * 0.1 * _iod(marks)
    drawn = np.zeros(image.shape[:2], np.uint8)
    width = max(3, round(0.25 * _iod(marks)))
    cv2.polylines(drawn, [np.round(curve).astype(np.int32)], False, 1, width, cv2.LINE_AA)
    out = image.copy()
    out[drawn > 0] = BEARD_BROWN
    return out, drawn > 0


def _lower_outline(image: np.ndarray, marks: np.ndarray) -> np.ndarray:
    """bool: the target's outline band below the nose's base, from 0.25 eye
    distances inside its 68 points' hull to 0.05 outside."""
    hull = np.zeros(image.shape[:2], np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(marks[:68]).astype(np.int32)), 1)
    inside = cv2.distanceTransform(hull, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    outside = cv2.distanceTransform(1 - hull, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    iod = _iod(marks)
    below = np.arange(image.shape[0])[:, None] > marks[33, 1]
    return (inside <= 0.25 * iod) & (outside <= 0.05 * iod) & below


def _green(image: np.ndarray) -> np.ndarray:
    levels = image.astype(np.int16)
    return levels[..., 1] - np.maximum(levels[..., 0], levels[..., 2]) > 25


@pytest.mark.parametrize("pair", ["astronaut_grace", "grace_astronaut"])
def test_a_coloured_background_at_the_jaw_is_not_pasted(astronaut, grace, pair):
    images = {"astronaut": astronaut, "grace": grace}
    source, target = (images[name] for name in pair.split("_"))
    screened, wide = on_screen(source, _marks(source))
    dst = _marks(target)
    out = swap_face(screened, wide, target, dst)
    band = _lower_outline(target, dst)
    green = _green(out) & ~_green(target)
    # Without the step a green line runs round the jaw: 11% and 33% of the band.
    assert green[band].mean() < 0.01


def test_the_fringe_measure_reads_the_pasted_background(astronaut, grace):
    screened, wide = on_screen(grace, _marks(grace))
    dst = _marks(astronaut)
    outs = [
        swap_face(screened, wide, astronaut, dst, SwapOptions(drop_fringe=on))
        for on in (False, True)
    ]
    without, with_step = (pasted.fringe_pasted(astronaut, out, dst) for out in outs)
    # 0.46 without the step, 0.09 with it.
    assert without > 0.3
    assert with_step < without / 3


@pytest.mark.parametrize("pair", ["astronaut_grace", "grace_astronaut"])
def test_a_beard_along_the_source_jaw_is_kept(astronaut, grace, pair):
    images = {"astronaut": astronaut, "grace": grace}
    source, target = (images[name] for name in pair.split("_"))
    src, dst = _marks(source), _marks(target)
    bearded, _ = beard(source, src)
    _, landed = beard(target, dst)  # where it lands: the target's jaw, as drawn there
    outs = [
        swap_face(bearded, src, target, dst, SwapOptions(drop_fringe=on)) for on in (True, False)
    ]
    grey = [cv2.cvtColor(im, cv2.COLOR_BGR2GRAY).astype(np.int16) for im in (target, *outs)]
    # The beard is pasted (over half of it is darker than the target's jaw) ...
    assert ((grey[0] - grey[1])[landed] > 40).mean() > 0.4
    # ... and the step leaves it (none of it changes by more than 20 levels).
    assert (np.abs(grey[1] - grey[2])[landed] > 20).mean() < 0.02


@pytest.mark.parametrize("pair", ["astronaut_grace", "grace_astronaut", "grace_mirrored"])
def test_a_bare_source_keeps_its_whole_face(astronaut, grace, pair):
    images = {"astronaut": astronaut, "grace": grace}
    images["mirrored"] = np.ascontiguousarray(astronaut[:, ::-1])
    source, target = (images[name] for name in pair.split("_"))
    src, dst = _marks(source), _marks(target)
    outs = [
        swap_face(source, src, target, dst, SwapOptions(drop_fringe=on)) for on in (True, False)
    ]
    diff = np.abs(outs[0].astype(np.int16) - outs[1].astype(np.int16)).max(axis=2) > 12
    hull = np.zeros(target.shape[:2], np.uint8)
    centre = dst[:68].mean(axis=0)
    core = np.round((dst[:68] - centre) * 0.7 + centre).astype(np.int32)
    cv2.fillConvexPoly(hull, cv2.convexHull(core), 1)
    # Never the middle of the face; at the outline's edge, at most the source's
    # chin over its dark collar (Grace's: 7-8% of the band; the astronaut's: none).
    assert not diff[hull > 0].any()
    assert diff[_lower_outline(target, dst)].mean() < 0.12


def test_a_colour_seen_round_the_face_only_is_the_background():
    colours = np.zeros((40, 40), np.intp)
    outside = np.zeros((40, 40), bool)
    outside[:, :10] = True
    inside = ~outside
    screen, skin_tone, beard_tone = (
        fringe.colour_bins(np.uint8([[c]]))[0, 0]
        for c in (SCREEN_GREEN, (120, 150, 200), BEARD_BROWN)
    )
    colours[:, :10] = screen
    colours[:5, :10] = beard_tone  # a beard reaching past the jaw
    colours[:, 10:] = skin_tone
    colours[:, 10:14] = beard_tone  # and over the chin
    seen = fringe.background_bins(colours, outside, inside).take(colours)
    assert seen[colours == screen].all()
    assert not seen[colours == beard_tone].any()
    assert not seen[colours == skin_tone].any()
