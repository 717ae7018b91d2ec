"""Recognise an image format by its magic bytes and read its dimensions from the header.

No decoder and no allocation proportional to the image: this runs on untrusted bytes
before anything else does, so a decompression bomb is refused by its header alone.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator


def sniff_format(data: bytes) -> str | None:
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    return None


_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # C4/C8/CC are not frames


def jpeg_segments(data: bytes) -> Iterator[tuple[int, int, int]]:
    """(marker, payload offset, payload length) of each header segment, up to SOS."""
    pos, end = 2, len(data)
    while pos + 4 <= end and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # standalone markers
            pos += 2
            continue
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if marker in (0xD9, 0xDA) or length < 2:  # EOI / SOS end the header
            return
        yield marker, pos + 4, length - 2
        pos += 2 + length


def jpeg_scan_start(data: bytes) -> int | None:
    """Offset of the first start-of-scan marker, found after the last header segment
    (an embedded EXIF thumbnail's markers lie inside a segment, so they are skipped)."""
    end = 2
    for _, start, length in jpeg_segments(data):
        end = start + length
    pos = data.find(b"\xff\xda", end)
    return pos if pos >= 0 else None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    # Like libjpeg: the first frame header before SOS is the one that gets decoded.
    for marker, start, length in jpeg_segments(data):
        if marker in _JPEG_SOF:
            if length < 5 or start + 5 > len(data):
                return None
            height, width = struct.unpack_from(">HH", data, start + 1)
            return width, height
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack_from("<HH", data, 26)
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def header_size(data: bytes, fmt: str) -> tuple[int, int] | None:
    """Dimensions straight from the header bytes: no decoder, no allocation."""
    if fmt == "png":
        if data[12:16] != b"IHDR" or len(data) < 24:
            return None
        return struct.unpack_from(">II", data, 16)
    if fmt == "gif":
        return struct.unpack_from("<HH", data, 6) if len(data) >= 10 else None
    if fmt == "webp":
        return _webp_size(data)
    return _jpeg_size(data)
