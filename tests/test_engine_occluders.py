"""The target's glasses stay on the new face (occluders.py): frames drawn on a
target survive the swap, and a face without glasses is swapped as before."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from swaps.engine import SwapOptions, detect_faces, occluders
from swaps.engine.pipeline import swap_face
from tests.engine_helpers import draw_glasses

pytestmark = pytest.mark.usefixtures("engine_models")


@pytest.mark.parametrize("colour", [(25, 25, 30), (252, 252, 252)])
def test_frames_drawn_on_the_target_survive_the_swap(astronaut, colour):
    # The source must wear no glasses (Grace does): the astronaut, mirrored.
    source = np.ascontiguousarray(astronaut[:, ::-1])
    marks = detect_faces(astronaut)[0].landmarks
    target, core = draw_glasses(astronaut, marks, colour)
    src = detect_faces(source)[0].landmarks

    def error(keep: bool) -> float:
        out = swap_face(source, src, target, marks, SwapOptions(keep_glasses=keep))
        diff = np.abs(out.astype(np.int16) - target.astype(np.int16)).max(axis=2)
        return float(np.median(diff[core]))

    assert error(False) > 40  # without the step the source's face covers them
    assert error(True) < 12  # with it the result along them is the target's


def test_a_source_with_its_own_glasses_keeps_them_alone(astronaut):
    # Two pairs on one face read worse than the source's pair: the target's go.
    marks = detect_faces(astronaut)[0].landmarks
    target, _ = draw_glasses(astronaut, marks, (25, 25, 30))
    mirrored = np.ascontiguousarray(astronaut[:, ::-1])
    mirrored_marks = detect_faces(mirrored)[0].landmarks
    source, _ = draw_glasses(mirrored, mirrored_marks, (252, 252, 252))
    src = detect_faces(source)[0].landmarks
    outs = [
        swap_face(source, src, target, marks, SwapOptions(keep_glasses=keep))
        for keep in (True, False)
    ]
    assert np.array_equal(outs[0], outs[1])


def test_a_face_without_glasses_is_swapped_exactly_as_before(grace, astronaut):
    marks, src = detect_faces(astronaut)[0].landmarks, detect_faces(grace)[0].landmarks
    outs = [
        swap_face(grace, src, astronaut, marks, SwapOptions(keep_glasses=keep))
        for keep in (True, False)
    ]
    assert np.array_equal(outs[0], outs[1])


def test_no_frames_are_found_on_a_bare_face_and_some_on_grace_hopper(grace, astronaut):
    for image, wears in ((astronaut, False), (grace, True)):
        marks = detect_faces(image)[0].landmarks
        iod = float(np.linalg.norm(marks[36:42].mean(axis=0) - marks[42:48].mean(axis=0)))
        scale = 64.0 / iod  # the analysis grid's eye distance, about
        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        found = occluders.glasses_mask(small, (marks + 0.5) * scale - 0.5, 64.0)
        assert (found is not None) == wears
        if wears:  # the frames, not the face: ~1% of the photo (its face: ~15%)
            assert 0.005 < float((found > 0.5).mean()) < 0.03


def test_lines_all_over_a_face_are_not_glasses(astronaut):
    """Wrinkles run round the eyes and across the bridge too, but no more
    strongly than over the cheeks: drawn everywhere, they are not frames."""
    marks = detect_faces(astronaut)[0].landmarks
    iod = float(np.linalg.norm(marks[36:42].mean(axis=0) - marks[42:48].mean(axis=0)))
    lined = astronaut.copy()
    x0, y0 = marks.min(axis=0).astype(int)
    x1, y1 = marks.max(axis=0).astype(int)
    for y in range(y0, y1, max(3, round(0.1 * iod))):
        cv2.line(
            lined, (x0, y), (x1, y + round(0.05 * iod)), (90, 90, 100), max(1, round(0.03 * iod))
        )
    scale = 64.0 / iod
    small = cv2.resize(lined, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    assert occluders.glasses_mask(small, (marks + 0.5) * scale - 0.5, 64.0) is None


def test_the_detection_benchmark_judges_the_fixtures_as_the_swap_does(grace, astronaut):
    from benchmarks import glasses_detection

    for image, wears in ((grace, True), (astronaut, False)):
        assert glasses_detection.judged(image, detect_faces(image)[0].landmarks) is wears


def test_eyes_outside_the_image_find_nothing_and_raise_nothing(grace):
    marks = detect_faces(grace)[0].landmarks
    assert occluders.glasses_mask(grace, marks - (0, 2 * grace.shape[0]), 80.0) is None
    assert occluders.glasses_mask(grace, marks + (grace.shape[1], 0), 80.0) is None
    h, w = grace.shape[:2]
    for dx, dy in ((-0.35, 0), (0.3, 0), (0, -0.3), (0, 0.4), (0.3, 0.3)):  # half the face out
        found = occluders.glasses_mask(grace, marks + (dx * w, dy * h), 80.0)
        assert found is None or found.shape == (h, w)


def _best_path_by_search(score: np.ndarray) -> np.ndarray:
    """The best path's column per row, by the plain recurrence (ties: here,
    else the left, else the right; the last row's first maximum)."""
    n, m = score.shape
    total, came = score[0].astype(np.float64), np.zeros((n, m), int)
    for i in range(1, n):
        row = np.empty(m)
        for j in range(m):
            left = total[j - 1] if j > 0 else -np.inf
            right = total[j + 1] if j + 1 < m else -np.inf
            best = max(total[j], left, right)
            came[i, j] = 0 if total[j] == best else (-1 if left == best else 1)
            row[j] = best + score[i, j]
        total = row
    path = [int(np.argmax(total))]
    for i in range(n - 1, 0, -1):
        path.append(path[-1] + came[i, path[-1]])
    return np.array(path[::-1])


def test_the_best_path_is_the_plain_recurrences():
    rng = np.random.default_rng(2)
    for _ in range(40):
        n, m = rng.integers(2, 30), rng.integers(1, 12)
        # Quarter steps: exact sums in float32, and many ties.
        score = np.round(rng.random((n, m)) * 4).astype(np.float32) / 4
        assert np.array_equal(occluders.best_path(score), _best_path_by_search(score))
        both = np.stack([score, score[:, ::-1]], axis=1)
        paths = occluders.best_path(both)
        assert np.array_equal(paths[:, 0], _best_path_by_search(score))
        assert np.array_equal(paths[:, 1], _best_path_by_search(score[:, ::-1]))
