"""The provenance note: stamped into every image we return, and read back for checks.

The note goes where common tools show it (JPEG COM, PNG tEXt/iTXt, GIF comment) and,
for JPEG, PNG and WebP, into an XMP packet that also declares the image AI-altered
(IPTC DigitalSourceType). swaps.imaging.encoding writes it; read_note reads it back.
"""

from __future__ import annotations

import html
import re
import struct
import zlib

from swaps.imaging import gif
from swaps.imaging.headers import jpeg_segments, sniff_format

_XMP_TEMPLATE = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"'
    ' xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"'
    ' Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/'
    'compositeWithTrainedAlgorithmicMedia">'
    '<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{note}</rdf:li></rdf:Alt>'
    "</dc:description></rdf:Description></rdf:RDF></x:xmpmeta>"
    '<?xpacket end="r"?>'
)
_XMP_NOTE = re.compile(rb"<dc:description>.*?<rdf:li[^>]*>(.*?)</rdf:li>", re.DOTALL)
_PNG_KEY = b"Comment"
_MAX_NOTE_BYTES = 10_000  # a JPEG segment holds at most 65533 bytes, XMP included


def check_note(note: str) -> None:
    """ValueError unless `note` fits every container's mark."""
    if len(note.encode()) > _MAX_NOTE_BYTES or "\0" in note:
        raise ValueError("note too long or contains NUL")


def xmp_packet(note: str) -> bytes:
    return _XMP_TEMPLATE.format(note=html.escape(note)).encode()


# --------------------------------------------------------------------------- writing the mark


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def mark_jpeg(data: bytes, note: str) -> bytes:
    marks = _jpeg_segment(0xFE, note.encode())  # COM: what most tools display
    marks += _jpeg_segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0" + xmp_packet(note))
    # JFIF requires APP0 to follow SOI directly, so the marks go after it when present.
    pos = 2
    if data[2:4] == b"\xff\xe0":
        pos = 4 + struct.unpack_from(">H", data, 4)[0]
    return data[:pos] + marks + data[pos:]


def mark_png(data: bytes, note: str) -> bytes:
    if data[12:16] != b"IHDR":
        raise RuntimeError("unexpected PNG layout from encoder")
    try:
        chunk = _png_chunk(b"tEXt", _PNG_KEY + b"\0" + note.encode("latin-1"))
    except UnicodeEncodeError:  # tEXt is Latin-1 only; iTXt carries UTF-8
        chunk = _png_chunk(b"iTXt", _PNG_KEY + b"\0\0\0\0\0" + note.encode())
    chunk += _png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + xmp_packet(note))
    # Right after IHDR rather than before IEND: streaming readers see it without the pixels.
    return data[:33] + chunk + data[33:]


# --------------------------------------------------------------------------- reading the mark


def _jpeg_note(data: bytes) -> str | None:
    for marker, start, length in jpeg_segments(data):
        if marker == 0xFE:
            return data[start : start + length].decode("utf-8", "replace")
    return None


def _png_note(data: bytes) -> str | None:
    pos = 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        payload = data[pos + 8 : pos + 8 + length]
        if kind == b"tEXt" and payload.startswith(_PNG_KEY + b"\0"):
            return payload[len(_PNG_KEY) + 1 :].decode("latin-1")
        if kind == b"iTXt" and payload.startswith(_PNG_KEY + b"\0\0"):
            # keyword\0 flag method lang\0 translated\0 text (we never compress)
            rest = payload[len(_PNG_KEY) + 3 :].split(b"\0", 2)
            return rest[2].decode("utf-8", "replace") if len(rest) == 3 else None
        if kind == b"IEND":
            return None
        pos += 12 + length
    return None


def _webp_note(data: bytes) -> str | None:
    pos = 12
    while pos + 8 <= len(data):
        kind, length = struct.unpack_from("<4sI", data, pos)
        if kind == b"XMP ":
            match = _XMP_NOTE.search(data[pos + 8 : pos + 8 + length])
            return html.unescape(match.group(1).decode("utf-8", "replace")) if match else None
        pos += 8 + length + (length & 1)
    return None


def read_note(data: bytes) -> str | None:
    """The provenance note written by encode_image, or None if absent."""
    readers = {
        "jpeg": _jpeg_note,
        "png": _png_note,
        "webp": _webp_note,
        "gif": gif.read_gif_comment,
    }
    reader = readers.get(sniff_format(data) or "")
    try:
        return reader(data) if reader else None
    except struct.error:  # truncated file
        return None
