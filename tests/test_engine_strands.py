"""The hair reaching into the face outline is left out of the blend (strands.py):
a lock across the source's temple is not pasted, the target's own lock stays,
and a bare source keeps its whole face."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from swaps.engine import SwapOptions, detect_faces, shape, strands
from swaps.engine.pipeline import swap_face
from tests.engine_helpers import draw_strand, strand_points

pytestmark = pytest.mark.usefixtures("engine_models")


def _marks(image: np.ndarray) -> np.ndarray:
    return detect_faces(image)[0].landmarks


def _iod(marks: np.ndarray) -> float:
    return float(np.linalg.norm(marks[36:42].mean(axis=0) - marks[42:48].mean(axis=0)))


def _hull(shape_hw: tuple[int, ...], points: np.ndarray, shrink: float = 1.0) -> np.ndarray:
    centre = points.mean(axis=0)
    out = np.zeros(shape_hw[:2], np.uint8)
    scaled = np.round((points - centre) * shrink + centre).astype(np.int32)
    cv2.fillConvexPoly(out, cv2.convexHull(scaled), 1)
    return out > 0


def _on_bare_face(lock: np.ndarray, marks: np.ndarray, grow: float = 1.0) -> np.ndarray:
    """The part of ``lock`` (bool) inside the face's swapped outline and away from
    its eyes and brows (``strands.kept_features``, ``grow`` times as wide)."""
    points, _ = shape.extend_landmarks(marks)
    inside = _hull(lock.shape, points[shape.OUTLINE])
    away = ~strands.kept_features(marks, lock.shape, grow * _iod(marks))
    return lock & inside & away


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.int16)


@pytest.fixture(scope="module")
def mirrored(astronaut) -> np.ndarray:
    # The other source with bare temples: Grace's glasses frames are kept (theirs
    # run where a lock falls), so the astronaut, mirrored, is the source here.
    return np.ascontiguousarray(astronaut[:, ::-1])


@pytest.mark.parametrize("direction", ["mirrored_to_astronaut", "astronaut_to_mirrored"])
def test_a_lock_across_the_source_temple_is_not_pasted(astronaut, mirrored, direction):
    source, target = (
        (mirrored, astronaut) if direction.startswith("mirrored") else (astronaut, mirrored)
    )
    src, dst = _marks(source), _marks(target)
    hairy, _ = draw_strand(source, src)
    # Where the lock lands on the target: its curve moved by the faces' similarity.
    landed = np.zeros(target.shape[:2], np.uint8)
    curve = shape.fit_similarity(src, dst).apply(strand_points(src))
    cv2.polylines(
        landed, [np.round(curve).astype(np.int32)], False, 1, max(1, round(0.06 * _iod(dst)))
    )
    region = _on_bare_face(landed > 0, dst)
    assert region.sum() > 50
    bare = swap_face(source, src, target, dst)
    out = swap_face(hairy, src, target, dst)
    darker = (_grey(bare) - _grey(out))[region] > 40
    # Pasted, a third of it is 40 levels darker than the bare source's swap (0.36-0.39).
    assert darker.mean() < 0.15


@pytest.mark.parametrize("pair", ["astronaut_grace", "grace_astronaut", "mirrored_astronaut"])
def test_a_bare_source_keeps_its_whole_face(astronaut, grace, mirrored, pair):
    images = {"astronaut": astronaut, "grace": grace, "mirrored": mirrored}
    source, target = (images[name] for name in pair.split("_"))
    src, dst = _marks(source), _marks(target)
    outs = [
        swap_face(source, src, target, dst, SwapOptions(drop_strands=on)) for on in (True, False)
    ]
    diff = np.abs(outs[0].astype(np.int16) - outs[1].astype(np.int16)).max(axis=2) > 12
    # Only the hair at the outline's edge goes (1.2% at most), never the middle.
    assert diff[_hull(target.shape, dst[:68])].mean() < 0.03
    assert not diff[_hull(target.shape, dst[:68], 0.6)].any()


@pytest.mark.parametrize("pair", ["astronaut_grace", "astronaut_mirrored"])
def test_the_targets_own_lock_stays(astronaut, grace, mirrored, pair):
    images = {"astronaut": astronaut, "grace": grace, "mirrored": mirrored}
    source, target = (images[name] for name in pair.split("_"))
    src, dst = _marks(source), _marks(target)
    hairy, lock = draw_strand(target, dst)
    core = cv2.erode(lock.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    # Away from the eyes of both faces: the source's, where they land, stay pasted.
    region = _on_bare_face(core, dst, grow=2.0)
    out = swap_face(source, src, hairy, dst)
    same = np.abs(out.astype(np.int16) - hairy.astype(np.int16)).max(axis=2)[region] < 20
    # Without the step the source's temple covers a fifth of it or more (0.75-0.82 stay).
    assert same.mean() > 0.85


def test_only_hair_reaching_the_edge_is_dropped():
    candidates = np.zeros((40, 40), bool)
    candidates[5:8, 0:20] = True  # a lock from the edge
    candidates[20:24, 20:24] = True  # a mole inside
    edge = np.zeros((40, 40), bool)
    edge[:, :2] = True
    kept = strands.reaching_out(candidates, edge)
    assert kept[5:8, 0:20].all()
    assert not kept[20:24, 20:24].any()


def test_a_thin_dark_line_is_hair_a_wide_soft_shadow_is_not():
    skin_bgr = np.array([150, 170, 220], np.float32)
    ys, xs = np.mgrid[0:80, 0:80]
    # A broad shadow: the right half darkens smoothly to 60% over 30 pixels.
    shade = 1.0 - 0.4 * np.clip((xs - 40) / 30.0, 0.0, 1.0)
    face = (skin_bgr * shade[..., None]).astype(np.uint8)
    cv2.line(face, (10, 0), (10, 79), (120, 135, 175), 2)  # a light-brown strand
    reference = np.zeros((80, 80), bool)
    reference[:, 20:75] = True  # the cheeks, lit and shaded
    hair = strands.not_skin(face, reference, iod=40.0)
    assert hair[:, 9:12].mean() > 0.9
    assert hair[:, 30:].mean() < 0.01


def test_judging_only_some_pixels_gives_their_verdicts_unchanged():
    rng = np.random.default_rng(4)
    face = rng.integers(60, 230, (60, 50, 3)).astype(np.uint8)
    reference = np.zeros((60, 50), bool)
    reference[30:50, 10:40] = True
    box = (slice(5, 45), slice(0, 50))
    within = rng.random((40, 50)) > 0.5
    everywhere = strands.not_skin(face, reference, 30.0, 0.85, box)
    some = strands.not_skin(face, reference, 30.0, 0.85, box, within)
    assert np.array_equal(some, everywhere & within)


def test_the_outlines_edge_includes_where_it_meets_the_grids_border():
    # The crop ends 2 px past the outline's extremes, a pixel or less on the grid:
    # hair reaching in there must be seen to reach in.
    outline = np.zeros((30, 40), bool)
    outline[:, 5:35] = True  # runs along the top and bottom borders
    edge = strands.outline_edge(outline)
    assert edge[0, 20] and edge[1, 20] and edge[-1, 20]
    assert not edge[15, 20]  # the middle is not the edge
    assert edge[15, 2] and edge[15, 6]  # outside it, and its outer pixels
