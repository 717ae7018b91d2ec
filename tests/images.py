"""Test photos: paths, bytes, decoded arrays, and multi-face mosaics built in code.

Only the two single-face fixtures are shipped; anything with several faces is
made by tiling them (flipped and/or scaled so face sizes differ), which keeps
the repository small and the expected face order known.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

FIXTURES = Path(__file__).parent / "fixtures"
ASTRONAUT = "astronaut.jpg"  # 512x512, one face ~100 px
GRACE_HOPPER = "grace_hopper.jpg"  # 512 wide x 600 high, one face ~215 px


def fixture_path(name: str) -> Path:
    path = FIXTURES / name
    if not path.is_file():
        raise FileNotFoundError(path)
    return path


def fixture_bytes(name: str) -> bytes:
    return fixture_path(name).read_bytes()


def load_fixture(name: str) -> np.ndarray:
    """The fixture decoded as BGR uint8, the way the service decodes uploads."""
    image = cv2.imdecode(np.frombuffer(fixture_bytes(name), np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"cannot decode fixture {name}")
    return image


# A square around each fixture's face, so the face fills about half the tile:
# mosaics stay small, and their faces stay within what the engine's default
# detection budget finds (faces of at least ~1/7 of the image side).
FACE_CROPS = {
    ASTRONAUT: (125, 30, 200, 200),  # x, y, w, h; the face is ~97 px wide
    GRACE_HOPPER: (69, 45, 400, 400),  # the face is ~215 px wide
}


@dataclass(frozen=True)
class Tile:
    """One fixture in a mosaic: its face crop (or whole photo), scaled, maybe mirrored."""

    name: str
    scale: float = 1.0
    flip: bool = False
    crop: bool = True


# Two faces, the larger first: Grace Hopper (~215 px), mirrored astronaut (~145 px).
TWO_FACES = (Tile(GRACE_HOPPER), Tile(ASTRONAUT, 1.5, flip=True))
# Four faces of clearly different sizes: ~215, ~175, ~140 and ~110 px.
FOUR_FACES = (
    Tile(GRACE_HOPPER),
    Tile(ASTRONAUT, 1.8, flip=True),
    Tile(GRACE_HOPPER, 0.65, flip=True),
    Tile(ASTRONAUT, 1.15),
)


def render_tile(tile: Tile) -> np.ndarray:
    image = load_fixture(tile.name)
    if tile.crop:
        x, y, w, h = FACE_CROPS[tile.name]
        image = image[y : y + h, x : x + w]
    if tile.scale != 1.0:
        interp = cv2.INTER_AREA if tile.scale < 1 else cv2.INTER_CUBIC
        image = cv2.resize(image, None, fx=tile.scale, fy=tile.scale, interpolation=interp)
    return cv2.flip(image, 1) if tile.flip else image


def tiled_faces(
    tiles: Sequence[Tile] = TWO_FACES, columns: int = 2, gap: int = 8, background: int = 128
) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """A mosaic of ``tiles`` in a grid, row by row, on a plain background.

    Returns the BGR image and each tile's (x, y, w, h) in it, in ``tiles``
    order, so a test can tell which tile a detected face belongs to.
    """
    rendered = [render_tile(t) for t in tiles]
    cell_w = max(im.shape[1] for im in rendered) + gap
    cell_h = max(im.shape[0] for im in rendered) + gap
    rows = -(-len(rendered) // columns)
    canvas = np.full((rows * cell_h + gap, columns * cell_w + gap, 3), background, np.uint8)
    boxes = []
    for i, im in enumerate(rendered):
        x = gap + (i % columns) * cell_w
        y = gap + (i // columns) * cell_h
        canvas[y : y + im.shape[0], x : x + im.shape[1]] = im
        boxes.append((x, y, im.shape[1], im.shape[0]))
    return canvas, boxes


def tile_of(point: tuple[float, float], boxes: Sequence[tuple[int, int, int, int]]) -> int:
    """Index of the tile containing ``point`` (x, y), or -1."""
    px, py = point
    for i, (x, y, w, h) in enumerate(boxes):
        if x <= px < x + w and y <= py < y + h:
            return i
    return -1


def assert_identity_transferred(
    result: np.ndarray, source: np.ndarray, target: np.ndarray, target_marks: np.ndarray
) -> None:
    """The face in ``result`` is the ``source``'s person (dlib's descriptor) and
    nearer it than the ``target``'s (``target_marks``: its 68 landmarks)."""
    from swaps.engine import detect_faces, face_descriptor
    from swaps.engine.quality import SAME_PERSON, identity_distance

    src, out = (face_descriptor(im, detect_faces(im)[0].landmarks) for im in (source, result))
    tgt = face_descriptor(target, target_marks)
    assert identity_distance(out, src) < SAME_PERSON
    assert identity_distance(out, src) < identity_distance(out, tgt)
