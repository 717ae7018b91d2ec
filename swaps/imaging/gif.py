"""The GIF container at byte level: scan and assemble, no pixel decoding.

``scan_gif`` walks the blocks of a GIF89a/87a file and reports what a request
needs before any pixel is decoded: the canvas (the logical screen grown to
cover every frame), the number of frames, each frame's delay, the loop count
and the first comment. It costs a few ms on a 10 MB file and allocates nothing
proportional to the pixels, so a decompression bomb is refused before the
decoder runs.

``assemble_gif`` writes frames whose LZW data and palette come from Pillow's
encoder into a GIF89a with exactly one frame per input frame (Pillow's own
writer merges identical consecutive frames), a local palette per frame, the
loop count and a comment extension.

Pure module: no Django, no image decoder.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass

_HEADERS = (b"GIF87a", b"GIF89a")
_EXTENSION, _IMAGE, _TRAILER = 0x21, 0x2C, 0x3B
_GRAPHIC_CONTROL, _COMMENT, _APPLICATION = 0xF9, 0xFE, 0xFF
_LOOP_APPS = (b"NETSCAPE2.0", b"ANIMEXTS1.0")
_MAX_COMMENT_BYTES = 64 * 1024
DISPOSE_NONE, DISPOSE_BACKGROUND = 1, 2


class GifFormatError(ValueError):
    """Not a GIF, or one with no complete frame."""


@dataclass(frozen=True)
class GifScan:
    width: int  # canvas: the logical screen grown to cover every frame
    height: int
    frames: int  # counted up to the scan's limit (then limit + 1)
    durations_ms: tuple[int, ...]  # per frame, from its graphic control extension (0 if none)
    loop: int | None  # NETSCAPE loop count: 0 = forever; None = no loop extension (play once)
    comment: str | None  # the first comment extension, UTF-8 (invalid bytes replaced)


@dataclass(frozen=True)
class GifFrame:
    """One frame ready to write: 8-bit LZW sub-blocks (no terminator) and a palette.

    It may cover only part of the canvas (``origin``, ``size``); the rest keeps
    the previous frame (disposal "do not dispose").
    """

    lzw: bytes
    palette: bytes  # up to 256 RGB triplets
    size: tuple[int, int]  # w, h
    delay_ms: int = 0
    origin: tuple[int, int] = (0, 0)  # left, top
    transparent_index: int | None = None
    disposal: int = DISPOSE_NONE  # DISPOSE_BACKGROUND clears the frame after it is shown


def _table_bytes(packed: int) -> int:
    return 3 << ((packed & 7) + 1) if packed & 0x80 else 0


def _skip_sub_blocks(data: bytes, pos: int) -> int:
    """Position after the sub-block chain starting at ``pos`` (IndexError if truncated)."""
    while True:
        count = data[pos]
        pos += 1 + count
        if count == 0:
            return pos


def _read_sub_blocks(data: bytes, pos: int, limit: int) -> tuple[int, list[bytes]]:
    blocks, total = [], 0
    while True:
        count = data[pos]
        if count == 0:
            return pos + 1, blocks
        if pos + 1 + count > len(data):
            raise IndexError("truncated sub-block")
        if total < limit:
            blocks.append(data[pos + 1 : pos + 1 + count])
            total += count
        pos += 1 + count


class _Walker:
    """State of one scan: what was seen so far."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.durations: list[int] = []
        self.delay = 0
        self.loop: int | None = None
        self.comment: str | None = None

    def extension(self, label: int, blocks: list[bytes]) -> None:
        if label == _GRAPHIC_CONTROL and blocks and len(blocks[0]) >= 3:
            self.delay = struct.unpack_from("<H", blocks[0], 1)[0] * 10
        elif label == _APPLICATION and len(blocks) >= 2 and blocks[0] in _LOOP_APPS:
            if len(blocks[1]) >= 3 and blocks[1][0] == 1:
                self.loop = struct.unpack_from("<H", blocks[1], 1)[0]
        elif label == _COMMENT and self.comment is None:
            self.comment = b"".join(blocks).decode("utf-8", "replace")

    def image(self, left: int, top: int, width: int, height: int) -> None:
        self.width = max(self.width, left + width)
        self.height = max(self.height, top + height)
        self.durations.append(self.delay)
        self.delay = 0


def _walk(data: bytes, walker: _Walker, pos: int, max_frames: int | None) -> None:
    while pos < len(data) and data[pos] != _TRAILER:
        if max_frames is not None and len(walker.durations) > max_frames:
            return
        if data[pos] == _EXTENSION:
            label = data[pos + 1]
            limit = _MAX_COMMENT_BYTES if label == _COMMENT else 64
            pos, blocks = _read_sub_blocks(data, pos + 2, limit)
            walker.extension(label, blocks)
        elif data[pos] == _IMAGE:
            left, top, width, height, packed = struct.unpack_from("<HHHHB", data, pos + 1)
            pos = _skip_sub_blocks(data, pos + 11 + _table_bytes(packed))
            walker.image(left, top, width, height)
        else:
            return  # garbage after the last frame: decoders stop here too


def scan_gif(data: bytes, max_frames: int | None = None) -> GifScan:
    """What the file holds, from its blocks; stops counting after ``max_frames`` + 1."""
    if data[:6] not in _HEADERS or len(data) < 13:
        raise GifFormatError("not a GIF")
    width, height, packed = struct.unpack_from("<HHB", data, 6)
    walker = _Walker(width, height)
    # Truncated: the frames that were complete still count (decoders show them).
    with contextlib.suppress(IndexError, struct.error):
        _walk(data, walker, 13 + _table_bytes(packed), max_frames)
    if not walker.durations:
        raise GifFormatError("no frame")
    return GifScan(
        walker.width,
        walker.height,
        len(walker.durations),
        tuple(walker.durations),
        walker.loop,
        walker.comment,
    )


def read_gif_comment(data: bytes) -> str | None:
    try:
        return scan_gif(data).comment
    except GifFormatError:
        return None


# --------------------------------------------------------------------------- writing


def _sub_blocks(payload: bytes) -> bytes:
    chunks = [payload[i : i + 255] for i in range(0, len(payload), 255)]
    return b"".join(bytes([len(c)]) + c for c in chunks) + b"\0"


def _loop_extension(loop: int) -> bytes:
    return b"\x21\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", loop) + b"\0"


def _comment_extension(comment: str) -> bytes:
    return b"\x21\xfe" + _sub_blocks(comment.encode())


def _frame_bytes(frame: GifFrame) -> bytes:
    delay = max(0, min(65535, round(frame.delay_ms / 10)))
    flags, index = frame.disposal << 2, 0
    if frame.transparent_index is not None:
        flags, index = flags | 1, frame.transparent_index
    control = b"\x21\xf9\x04" + struct.pack("<BHB", flags, delay, index) + b"\0"
    palette = frame.palette[:768].ljust(768, b"\0")  # a 256-entry local table
    descriptor = b"\x2c" + struct.pack("<HHHHB", *frame.origin, *frame.size, 0x80 | 7)
    return control + descriptor + palette + b"\x08" + frame.lzw + b"\0"


def assemble_gif(
    frames: Sequence[GifFrame], size: tuple[int, int], loop: int | None, comment: str
) -> bytes:
    """A GIF89a of ``frames`` on a canvas of ``size``, in order (the first frame
    should cover the whole canvas)."""
    if not frames:
        raise ValueError("no frames")
    head = b"GIF89a" + struct.pack("<HHBBB", *size, 0, 0, 0)  # no global colour table
    if loop is not None:
        head += _loop_extension(max(0, min(65535, loop)))
    if comment:
        head += _comment_extension(comment)
    return head + b"".join(_frame_bytes(f) for f in frames) + bytes([_TRAILER])
