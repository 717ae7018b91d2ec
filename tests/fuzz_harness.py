"""The image front door under hostile bytes: one input through every reader.

Shared by the short fuzz test (tests/test_fuzz_images.py, hypothesis) and the long
run (benchmarks/fuzz_images.py). Only ImageInputError may come out: anything else
is a crash the API would turn into a 500.
"""

from __future__ import annotations

import random

from swaps import animated
from swaps.imaging import INPUT_FORMATS
from swaps.imaging.decoding import decode_image, probe_image
from swaps.imaging.errors import ImageInputError

MAX_PIXELS = 4_000_000  # seeds are tiny: a mutated header claiming more is refused early


def front_door(data: bytes) -> None:
    """Probe, decode and (for GIFs) decode every frame, as a request and a worker would."""
    try:
        info = probe_image(
            data,
            image="target_image",
            max_bytes=1 << 20,
            max_pixels=MAX_PIXELS,
            allowed_formats=INPUT_FORMATS,
        )
        decode_image(
            data, image="target_image", max_pixels=MAX_PIXELS, allowed_formats=INPUT_FORMATS
        )
        if info.format == "gif":
            animated.decode_animation(data, image="target_image", max_pixels=MAX_PIXELS)
    except ImageInputError:
        pass


def mutate(seed: bytes, rng: random.Random) -> bytes:
    """One random mutation of ``seed``: flipped, inserted, deleted or repeated bytes,
    a truncation, or a splice of interesting values (0, 0xFF, lengths)."""
    data = bytearray(seed)
    for _ in range(rng.randint(1, 4)):
        if not data:
            break
        pos = rng.randrange(len(data))
        kind = rng.randrange(6)
        if kind == 0:
            data[pos] ^= 1 << rng.randrange(8)
        elif kind == 1:
            data[pos] = rng.choice((0x00, 0xFF, 0x7F, 0x80, 0x01))
        elif kind == 2:
            data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif kind == 3:
            del data[pos : pos + rng.randint(1, 16)]
        elif kind == 4:
            data = data[: max(1, pos)]
        else:
            data[pos : pos + 2] = rng.choice((b"\xff\xff", b"\x00\x00", b"\xff\xd9", b"\x3b"))
    return bytes(data)
