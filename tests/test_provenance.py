"""Every output format carries the "altered by" note, readable back from the bytes."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from swaps.animated import encode_animation
from swaps.imaging.encoding import encode_image
from swaps.imaging.headers import sniff_format
from swaps.imaging.provenance import read_note

NOTE = "Altered by FaceSwap: this image contains an AI face swap."


def _picture() -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)


def _encode(fmt: str) -> bytes:
    if fmt == "gif":
        return encode_animation([_picture(), _picture()[::-1]], [50, 50], loop=0, note=NOTE)
    return encode_image(_picture(), fmt, note=NOTE)


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "gif"])
def test_note_reads_back_in_every_format(fmt):
    data = _encode(fmt)
    assert sniff_format(data) == fmt
    assert read_note(data) == NOTE


@pytest.mark.parametrize(
    ("fmt", "where"), [("jpeg", "comment"), ("png", "Comment"), ("gif", "comment"), ("webp", "xmp")]
)
def test_other_readers_see_the_note(fmt, where):
    """Pillow (as a stand-in for common tools) finds the note where it looks."""
    with Image.open(io.BytesIO(_encode(fmt))) as img:
        value = img.info.get(where)
    text = value.decode() if isinstance(value, bytes) else str(value)
    assert NOTE in text
    if fmt in ("jpeg", "png", "webp"):
        assert "exif" not in img.info
