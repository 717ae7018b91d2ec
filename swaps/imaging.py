"""Recognise, check, decode and encode user-supplied images.

Pure module: no Django. Every limit is an argument so callers own policy.

Decoding order is deliberate: magic bytes -> our own header parse (dimensions only, no
allocation proportional to the image) -> pixel cap -> real decoder. Pillow's and OpenCV's
own bomb guards stay enabled as a second line of defence.
"""

from __future__ import annotations

import base64
import binascii
import html
import io
import os
import re
import struct
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

# OpenCV reads this once, when its image codecs initialise; it must be set before import.
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(100_000_000))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

from swaps import gif  # noqa: E402

# Hard ceiling shared with OpenCV above; per-call max_pixels should be lower.
HARD_MAX_PIXELS = 100_000_000
Image.MAX_IMAGE_PIXELS = HARD_MAX_PIXELS
# Pillow only *warns* between 1x and 2x MAX_IMAGE_PIXELS; a warning is not a refusal.
warnings.simplefilter("error", Image.DecompressionBombWarning)

DEFAULT_FORMATS: frozenset[str] = frozenset({"jpeg", "png", "webp"})
# What the service accepts: GIF too (an animated target is swapped frame by frame by
# swaps.animated; anywhere else a GIF gives its first frame).
INPUT_FORMATS: frozenset[str] = DEFAULT_FORMATS | {"gif"}
_BOMB_ERRORS = (Image.DecompressionBombError, Image.DecompressionBombWarning)


class ImageInputError(Exception):
    """A client-caused image problem; `code` is stable API, `message` is safe to show."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int  # as stored in the header, i.e. before EXIF orientation
    height: int


@dataclass(frozen=True)
class DecodedImage:
    array: np.ndarray = field(repr=False)  # HxWx3 BGR uint8, EXIF orientation applied
    format: str
    width: int
    height: int


def _invalid(image: str) -> ImageInputError:
    message = f"{image}: not a valid JPEG, PNG, WebP or GIF image."
    return ImageInputError("invalid_image_format", message, {"image": image})


def _too_many_pixels(
    image: str, width: int | None, height: int | None, max_pixels: int
) -> ImageInputError:
    details: dict[str, Any] = {"image": image, "max_pixels": max_pixels}
    if width is not None:
        details.update(width=width, height=height)
    message = f"{image}: too many pixels (limit {max_pixels})."
    return ImageInputError("image_too_large", message, details)


def _too_many_bytes(image: str, max_bytes: int) -> ImageInputError:
    message = f"{image}: file too large (limit {max_bytes} bytes)."
    return ImageInputError("image_too_large", message, {"image": image, "max_bytes": max_bytes})


# --------------------------------------------------------------------------- recognition


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


def _jpeg_segments(data: bytes) -> Iterator[tuple[int, int, int]]:
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


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    # Like libjpeg: the first frame header before SOS is the one that gets decoded.
    for marker, start, length in _jpeg_segments(data):
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


def _header_size(data: bytes, fmt: str) -> tuple[int, int] | None:
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


def _check_header(
    data: bytes, image: str, max_pixels: int, allowed: frozenset[str]
) -> tuple[str, int, int]:
    max_pixels = min(max_pixels, HARD_MAX_PIXELS)  # OpenCV refuses above it anyway
    fmt = sniff_format(data)
    if fmt is None or fmt not in allowed:
        raise _invalid(image)
    size = _header_size(data, fmt)
    if size is None or size[0] <= 0 or size[1] <= 0:
        raise _invalid(image)
    width, height = size
    if width * height > max_pixels:
        raise _too_many_pixels(image, width, height, max_pixels)
    return fmt, width, height


def _pil_open(data: bytes, fmt: str, image: str, max_pixels: int) -> Image.Image:
    try:
        img = Image.open(io.BytesIO(data), formats=[fmt.upper()])
    except _BOMB_ERRORS:
        raise _too_many_pixels(image, None, None, max_pixels) from None
    except Exception:
        raise _invalid(image) from None
    # GIF frames may extend past the logical screen; Pillow grows its size to cover them.
    if img.width * img.height > max_pixels:
        raise _too_many_pixels(image, img.width, img.height, max_pixels)
    return img


def probe_image(
    data: bytes,
    *,
    image: str,
    max_bytes: int,
    max_pixels: int,
    allowed_formats: frozenset[str] = DEFAULT_FORMATS,
) -> ImageInfo:
    """Cheap request-time check: size, format and pixel count, without decoding pixels."""
    if len(data) > max_bytes:
        raise _too_many_bytes(image, max_bytes)
    fmt, width, height = _check_header(data, image, max_pixels, allowed_formats)
    # Pillow re-parses the header: a file our parser and Pillow disagree on is suspect.
    img = _pil_open(data, fmt, image, max_pixels)
    if fmt != "gif" and img.size != (width, height):
        raise _invalid(image)
    return ImageInfo(fmt, img.width, img.height)


# --------------------------------------------------------------------------- decoding


def _decode_pillow(data: bytes, fmt: str, image: str, max_pixels: int) -> np.ndarray:
    img = _pil_open(data, fmt, image, max_pixels)
    img = ImageOps.exif_transpose(img)
    if img.mode != "RGB":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB").convert("RGB")
    return cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2BGR)


def _decode_array(data: bytes, fmt: str, image: str, max_pixels: int) -> np.ndarray:
    if fmt != "gif":  # GIF goes through Pillow (first frame only)
        # libjpeg-turbo via OpenCV is ~2x faster than Pillow on big JPEGs; IMREAD_COLOR
        # yields 8-bit BGR and applies EXIF orientation.
        array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if array is not None:
            return array
    return _decode_pillow(data, fmt, image, max_pixels)


def decode_image(
    data: bytes,
    *,
    image: str,
    max_pixels: int,
    allowed_formats: frozenset[str] = DEFAULT_FORMATS,
) -> DecodedImage:
    """Full decode to BGR uint8; any decoder failure becomes ImageInputError."""
    fmt, _, _ = _check_header(data, image, max_pixels, allowed_formats)
    try:
        array = _decode_array(data, fmt, image, max_pixels)
    except ImageInputError:
        raise
    except _BOMB_ERRORS:
        raise _too_many_pixels(image, None, None, max_pixels) from None
    except Exception:  # decoders raise a zoo of types on hostile input (incl. MemoryError)
        raise _invalid(image) from None
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise _invalid(image)
    height, width = array.shape[:2]
    if width * height > max_pixels:  # belt and braces: decoders disagreeing with headers
        raise _too_many_pixels(image, width, height, max_pixels)
    return DecodedImage(np.ascontiguousarray(array), fmt, width, height)


# --------------------------------------------------------------------------- base64

_DATA_URI = re.compile(r"\s*data:([^,]*),", re.IGNORECASE)
_B64_URLSAFE = str.maketrans("-_", "+/")
_WS_SLACK = 1.05  # MIME-style line breaks add ~2.6%; anything beyond is not an honest upload


def _is_image_base64_uri(match: re.Match[str]) -> bool:
    params = [p.strip().lower() for p in match.group(1).split(";")]
    return params[0].startswith("image/") and params[-1] == "base64"


def _split_data_uri(value: str, image: str) -> str:
    match = _DATA_URI.match(value)
    if match is None:
        return value
    if not _is_image_base64_uri(match):
        raise _invalid(image)
    return value[match.end() :]


def _decoded_length(b64_len: int) -> int:
    return b64_len // 4 * 3 + {0: 0, 1: 0, 2: 1, 3: 2}[b64_len % 4]


def decode_base64_image(value: str, *, image: str, max_bytes: int) -> bytes:
    """Data URI or bare base64 (std or urlsafe, any whitespace, padding optional)."""
    if not isinstance(value, str):
        raise _invalid(image)
    # Cheap length guard first so a huge string costs nothing beyond its own memory.
    if len(value) > (max_bytes + 2) // 3 * 4 * _WS_SLACK + 512:
        raise _too_many_bytes(image, max_bytes)
    padded = "".join(_split_data_uri(value, image).split())
    payload = padded.rstrip("=")
    if _decoded_length(len(payload)) > max_bytes:
        raise _too_many_bytes(image, max_bytes)
    padding = len(padded) - len(payload)  # optional, but if present it must be right
    if not payload or len(payload) % 4 == 1 or (padding and (padding > 2 or len(padded) % 4)):
        raise _invalid(image)
    payload = payload.translate(_B64_URLSAFE) + "=" * (-len(payload) % 4)
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise _invalid(image) from None
    if sniff_format(data) is None:
        raise _invalid(image)
    return data


def looks_like_base64_image(value: str) -> bool:
    """True if `value` starts like a base64-encoded image (rather than a URL or junk)."""
    if not isinstance(value, str):
        return False
    head = value[:512]
    match = _DATA_URI.match(head)
    if match is not None:
        return _is_image_base64_uri(match)
    prefix = "".join(head.split())[:16].translate(_B64_URLSAFE)
    if len(prefix) < 16:
        return False
    try:
        return sniff_format(base64.b64decode(prefix, validate=True)) is not None
    except (binascii.Error, ValueError):
        return False


# --------------------------------------------------------------------------- encoding

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
_WEBP_MAX_SIDE = 16383


def _xmp_packet(note: str) -> bytes:
    return _XMP_TEMPLATE.format(note=html.escape(note)).encode()


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def _mark_jpeg(data: bytes, note: str) -> bytes:
    marks = _jpeg_segment(0xFE, note.encode())  # COM: what most tools display
    marks += _jpeg_segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0" + _xmp_packet(note))
    # JFIF requires APP0 to follow SOI directly, so the marks go after it when present.
    pos = 2
    if data[2:4] == b"\xff\xe0":
        pos = 4 + struct.unpack_from(">H", data, 4)[0]
    return data[:pos] + marks + data[pos:]


def _mark_png(data: bytes, note: str) -> bytes:
    if data[12:16] != b"IHDR":
        raise RuntimeError("unexpected PNG layout from encoder")
    try:
        chunk = _png_chunk(b"tEXt", _PNG_KEY + b"\0" + note.encode("latin-1"))
    except UnicodeEncodeError:  # tEXt is Latin-1 only; iTXt carries UTF-8
        chunk = _png_chunk(b"iTXt", _PNG_KEY + b"\0\0\0\0\0" + note.encode())
    chunk += _png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + _xmp_packet(note))
    # Right after IHDR rather than before IEND: streaming readers see it without the pixels.
    return data[:33] + chunk + data[33:]


def _encode_webp(image_bgr: np.ndarray, note: str, quality: int) -> bytes:
    # Pillow rather than cv2 here: cv2 hard-codes libwebp's method 4, which is ~2x slower
    # than method 2 at 29 MP for ~7% more bytes, and Pillow writes the XMP chunk for us.
    if max(image_bgr.shape[:2]) > _WEBP_MAX_SIDE:
        raise ValueError("image too large for WebP")
    code = cv2.COLOR_BGR2RGB if image_bgr.ndim == 3 else cv2.COLOR_GRAY2RGB
    out = io.BytesIO()
    Image.fromarray(cv2.cvtColor(image_bgr, code)).save(
        out, "WEBP", quality=quality, method=2, xmp=_xmp_packet(note)
    )
    return out.getvalue()


def _encode_cv2(image_bgr: np.ndarray, ext: str, params: list[int]) -> bytes:
    ok, buf = cv2.imencode(ext, image_bgr, params)
    if not ok:
        raise RuntimeError(f"{ext} encoder failed")
    return buf.tobytes()


def encode_image(image_bgr: np.ndarray, fmt: str, *, note: str, quality: int = 92) -> bytes:
    """Encode pixels only (no EXIF/GPS can survive) and stamp `note` into the file."""
    if image_bgr.dtype != np.uint8 or image_bgr.ndim not in (2, 3):
        raise ValueError("expected a uint8 HxW or HxWx3 array")
    if image_bgr.ndim == 3 and image_bgr.shape[2] != 3:
        raise ValueError("expected 3 (BGR) channels")
    if len(note.encode()) > _MAX_NOTE_BYTES or "\0" in note:
        raise ValueError("note too long or contains NUL")
    quality = max(1, min(quality, 100))
    if fmt == "jpeg":
        data = _encode_cv2(image_bgr, ".jpg", [cv2.IMWRITE_JPEG_QUALITY, quality])
        return _mark_jpeg(data, note)
    if fmt == "png":
        # Level 1 + "up" filter: ~2x faster than OpenCV's adaptive default, same size.
        params = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_UP]
        return _mark_png(_encode_cv2(image_bgr, ".png", params), note)
    if fmt == "webp":
        return _encode_webp(image_bgr, note, quality)
    raise ValueError(f"unsupported output format: {fmt!r}")


# --------------------------------------------------------------------------- reading the mark


def _jpeg_note(data: bytes) -> str | None:
    for marker, start, length in _jpeg_segments(data):
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
    readers = {"jpeg": _jpeg_note, "png": _png_note, "webp": _webp_note,
               "gif": gif.read_gif_comment}
    reader = readers.get(sniff_format(data) or "")
    try:
        return reader(data) if reader else None
    except struct.error:  # truncated file
        return None
