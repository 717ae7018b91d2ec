"""Animated test material built in code from the fixtures: a face moving over a scene."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import cv2
import numpy as np
from PIL import Image

from tests.images import GRACE_HOPPER, Tile, render_tile


def moving_face_frames(
    face: np.ndarray | None = None,
    count: int = 50,
    size: tuple[int, int] = (640, 480),
    face_scale: float = 0.55,
) -> list[np.ndarray]:
    """``count`` BGR frames of ``size`` (w, h): ``face`` (a photo cropped around a face;
    default the Grace Hopper fixture's face tile) drifting and slightly zooming over a
    textured background, like a short clip."""
    face = render_tile(Tile(GRACE_HOPPER)) if face is None else face
    width, height = size
    rng = np.random.default_rng(7)
    texture = cv2.GaussianBlur(rng.integers(60, 200, (height, width, 3), dtype=np.uint8), (0, 0), 6)
    frames = []
    for i in range(count):
        phase = 2 * math.pi * i / max(count, 1)
        scale = face_scale * (1 + 0.08 * math.sin(phase))
        tile = cv2.resize(face, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        h, w = tile.shape[:2]
        x = int((width - w) / 2 + 0.25 * (width - w) * math.sin(phase))
        y = int((height - h) / 2 + 0.15 * (height - h) * math.cos(phase))
        frame = texture.copy()
        frame[y : y + h, x : x + w] = tile
        frames.append(frame)
    return frames


def pillow_gif(
    frames: Sequence[np.ndarray],
    durations_ms: Sequence[int],
    loop: int | None = 0,
    **options: object,
) -> bytes:
    """A GIF written by Pillow (not by our encoder): frames after the first are
    stored as changed rectangles, so decoding exercises compositing."""
    images = [Image.fromarray(cv2.cvtColor(f, cv2.COLOR_BGR2RGB)) for f in frames]
    out = io.BytesIO()
    extra = dict(options)
    if loop is not None:
        extra["loop"] = loop
    images[0].save(
        out, "GIF", save_all=True, append_images=images[1:], duration=list(durations_ms), **extra
    )
    return out.getvalue()
