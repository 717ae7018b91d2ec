"""Face detection (YuNet-s) and landmarks (Face Mesh): what is found, what is not,
and the model files' checksums."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from swaps.engine import EngineError, detect_faces, models
from swaps.engine.detect import find_face_boxes, same_face
from tests.images import ASTRONAUT, FOUR_FACES, GRACE_HOPPER, Tile, tile_of, tiled_faces

pytestmark = pytest.mark.usefixtures("engine_models")


def canvas_with_faces(widths: list[int], side: int = 1000) -> tuple[np.ndarray, list[tuple]]:
    """A side x side grey canvas with fixture faces of about these widths (px)
    spread over a grid, alternating the two photos and mirroring every other one."""
    canvas = np.full((side, side, 3), 128, np.uint8)
    columns = int(np.ceil(np.sqrt(len(widths))))
    cell = side // columns
    boxes = []
    for i, width in enumerate(widths):
        name = (GRACE_HOPPER, ASTRONAUT)[i % 2]
        base = tiled_faces([Tile(name, flip=bool(i // 2 % 2))], gap=0)[0]
        face = detect_faces(base)[0]
        scale = width / face.box[2]
        tile = cv2.resize(base, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        tile = tile[: cell - 4, : cell - 4]
        y, x = (i // columns) * cell + 2, (i % columns) * cell + 2
        canvas[y : y + tile.shape[0], x : x + tile.shape[1]] = tile
        boxes.append((x, y, tile.shape[1], tile.shape[0]))
    return canvas, boxes


def test_a_48_px_face_in_a_1_mp_photo_is_found():
    canvas, boxes = canvas_with_faces([48])
    faces = detect_faces(canvas)
    assert len(faces) == 1
    assert 36 <= faces[0].box[2] <= 64
    assert tile_of((faces[0].box[0] + 24, faces[0].box[1] + 24), boxes) == 0


def test_a_collage_of_small_faces_is_counted_exactly():
    widths = [64, 60, 56, 52, 48, 64, 60, 56, 52]
    canvas, boxes = canvas_with_faces(widths)
    faces = detect_faces(canvas)
    assert len(faces) == len(widths)
    centres = [(x + w / 2, y + h / 2) for x, y, w, h in (f.box for f in faces)]
    assert sorted(tile_of(c, boxes) for c in centres) == list(range(len(widths)))


def test_big_and_small_faces_in_one_photo_are_all_found():
    canvas, _ = canvas_with_faces([280, 50, 50, 50])
    assert len(detect_faces(canvas)) == 4


def test_faces_come_largest_first_and_once_each():
    mosaic, _ = tiled_faces(FOUR_FACES)
    found = find_face_boxes(mosaic)
    assert len(found) == 4
    widths = [d.width for d in found]
    assert widths == sorted(widths, reverse=True)
    assert not any(same_face(a.box, b.box) for i, a in enumerate(found) for b in found[i + 1 :])


def clouds(side: int = 800) -> np.ndarray:
    """Coloured multi-scale noise: texture at every size, no face anywhere."""
    rng = np.random.default_rng(3)
    out = np.zeros((side, side, 3), np.float32)
    for octave in (4, 16, 64, 256):
        layer = rng.random((octave, octave, 3)).astype(np.float32)
        out += cv2.resize(layer, (side, side), interpolation=cv2.INTER_CUBIC) / 4
    return np.clip(out * 255, 0, 255).astype(np.uint8)


def test_no_face_is_found_in_texture(astronaut):
    assert detect_faces(clouds()) == []
    # The astronaut's photo with her face covered: suit, flag and background stay.
    covered = astronaut.copy()
    x, y, w, h = detect_faces(astronaut)[0].box
    covered[max(0, y - h // 2) : y + 3 * h // 2, max(0, x - w // 2) : x + 3 * w // 2] = 90
    assert detect_faces(covered) == []


def test_landmarks_follow_the_face_when_the_photo_is_mirrored(grace):
    face = detect_faces(grace)[0]
    mirrored = detect_faces(np.ascontiguousarray(grace[:, ::-1]))[0]
    width = grace.shape[1]
    # Point k of the mirror image is the mirror of the original's matching point:
    # compare the two eyes' centres (36-41 and 42-47 swap sides).
    left = face.landmarks[36:42].mean(axis=0)
    right_mirrored = mirrored.landmarks[42:48].mean(axis=0)
    assert abs((width - 1 - right_mirrored[0]) - left[0]) < 0.05 * face.box[2]
    assert abs(right_mirrored[1] - left[1]) < 0.05 * face.box[2]


def test_a_damaged_model_file_stops_loading_with_a_clear_error(tmp_path):
    shutil.copy(models.WEIGHTS_DIR / models.YUNET, tmp_path / models.YUNET)
    assert models.verified_weights(models.YUNET, tmp_path)  # the vendored file is intact
    with open(tmp_path / models.YUNET, "r+b") as fh:
        fh.seek(1000)
        fh.write(b"\x00")
    with pytest.raises(EngineError) as info:
        models.verified_weights(models.YUNET, tmp_path)
    assert info.value.code == "models_unavailable"
    assert "sha256" in str(info.value)
    with pytest.raises(EngineError):
        models.verified_weights(models.FACE_MESH, tmp_path)  # missing


def test_every_vendored_model_matches_its_checksum():
    for name in models.SHA256:
        assert models.verified_weights(name)


def test_the_service_refuses_to_start_with_a_damaged_model(monkeypatch):
    from swaps.checks import face_models_intact

    assert face_models_intact() == []
    monkeypatch.setitem(models.SHA256, models.FACE_MESH, "0" * 64)
    errors = face_models_intact()
    assert [e.id for e in errors] == ["swaps.E001"]
    assert models.FACE_MESH in errors[0].msg
