"""Check and decode untrusted image bytes: a cheap request-time probe and the full decode.

Decoding order is deliberate: magic bytes -> our own header parse (dimensions only, no
allocation proportional to the image) -> pixel cap -> real decoder. Pillow's and OpenCV's
own bomb guards stay enabled as a second line of defence (limits: swaps.imaging).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image, ImageOps

from swaps.imaging import DEFAULT_FORMATS, HARD_MAX_PIXELS
from swaps.imaging.errors import ImageInputError, invalid_image, too_many_bytes, too_many_pixels
from swaps.imaging.headers import header_size, jpeg_scan_start, sniff_format

_BOMB_ERRORS = (Image.DecompressionBombError, Image.DecompressionBombWarning)


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


def _check_header(
    data: bytes, image: str, max_pixels: int, allowed: frozenset[str]
) -> tuple[str, int, int]:
    max_pixels = min(max_pixels, HARD_MAX_PIXELS)  # OpenCV refuses above it anyway
    fmt = sniff_format(data)
    if fmt is None or fmt not in allowed:
        raise invalid_image(image)
    size = header_size(data, fmt)
    if size is None or size[0] <= 0 or size[1] <= 0:
        raise invalid_image(image)
    width, height = size
    if width * height > max_pixels:
        raise too_many_pixels(image, width, height, max_pixels)
    return fmt, width, height


def _pil_open(data: bytes, fmt: str, image: str, max_pixels: int) -> Image.Image:
    try:
        img = Image.open(io.BytesIO(data), formats=[fmt.upper()])
    except _BOMB_ERRORS:
        raise too_many_pixels(image, None, None, max_pixels) from None
    except Exception:
        raise invalid_image(image) from None
    # GIF frames may extend past the logical screen; Pillow grows its size to cover them.
    if img.width * img.height > max_pixels:
        raise too_many_pixels(image, img.width, img.height, max_pixels)
    return img


def probe_image(
    data: bytes,
    *,
    image: str,
    max_bytes: int,
    max_pixels: int,
    allowed_formats: frozenset[str] = DEFAULT_FORMATS,
) -> ImageInfo:
    """Request-time check: size, format, pixel count, and that the whole file decodes
    (a truncated or corrupt image is refused here, before any charge)."""
    if len(data) > max_bytes:
        raise too_many_bytes(image, max_bytes)
    fmt, width, height = _check_header(data, image, max_pixels, allowed_formats)
    # Pillow re-parses the header: a file our parser and Pillow disagree on is suspect.
    img = _pil_open(data, fmt, image, max_pixels)
    if fmt != "gif" and img.size != (width, height):
        raise invalid_image(image)
    check_complete(data, fmt, image, max_pixels)
    return ImageInfo(fmt, img.width, img.height)


def check_complete(data: bytes, fmt: str, image: str, max_pixels: int) -> None:
    """Decode the whole file as cheaply as its format allows; a truncated or corrupt
    one is ImageInputError(invalid_image_format).

    PNG: every chunk's CRC up to IEND (no pixels). JPEG: its end-of-image marker
    after the first scan (entropy-coded data can hold no 0xFF 0xD9, so a cut file has
    none there; decoding a 29 MP progressive JPEG even at 1/8 scale took 150 ms).
    WebP and GIF: the (first) frame. Pillow refuses truncated data (its
    LOAD_TRUNCATED_IMAGES stays off), where libjpeg through OpenCV would return a
    half-grey picture without a word.
    """
    if fmt == "jpeg":
        scan = jpeg_scan_start(data)
        if scan is None or data.rfind(b"\xff\xd9") < scan:
            raise invalid_image(image)
        return
    img = _pil_open(data, fmt, image, max_pixels)
    try:
        if fmt == "png":
            img.verify()
            return
        img.load()
    except _BOMB_ERRORS:
        raise too_many_pixels(image, None, None, max_pixels) from None
    except Exception:  # truncated, corrupt: Pillow raises OSError, SyntaxError, ValueError...
        raise invalid_image(image) from None


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
    data: bytes, *, image: str, max_pixels: int, allowed_formats: frozenset[str] = DEFAULT_FORMATS
) -> DecodedImage:
    """Full decode to BGR uint8; any decoder failure becomes ImageInputError."""
    fmt, _, _ = _check_header(data, image, max_pixels, allowed_formats)
    try:
        array = _decode_array(data, fmt, image, max_pixels)
    except ImageInputError:
        raise
    except _BOMB_ERRORS:
        raise too_many_pixels(image, None, None, max_pixels) from None
    except Exception:  # decoders raise a zoo of types on hostile input (incl. MemoryError)
        raise invalid_image(image) from None
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise invalid_image(image)
    height, width = array.shape[:2]
    if width * height > max_pixels:  # belt and braces: decoders disagreeing with headers
        raise too_many_pixels(image, width, height, max_pixels)
    return DecodedImage(np.ascontiguousarray(array), fmt, width, height)


def reduction(fmt: str, width: int, height: int, keep_pixels: int) -> int:
    """The denominator (1, 2, 4 or 8) ``decode_reduced`` decodes at: JPEG's DCT
    scaling, keeping at least ``keep_pixels``; other formats decode in full."""
    if fmt != "jpeg":
        return 1
    denominator = 1
    while denominator < 8 and width * height / (2 * denominator) ** 2 >= keep_pixels:
        denominator *= 2
    return denominator


def decode_reduced(
    data: bytes,
    *,
    image: str,
    max_pixels: int,
    keep_pixels: int,
    allowed_formats: frozenset[str] = DEFAULT_FORMATS,
) -> tuple[DecodedImage, float]:
    """A decode with at least ``keep_pixels`` pixels where the format can decode
    smaller (``reduction``), else a full one; and its scale to the full image.
    EXIF orientation is applied as ``decode_image`` does."""
    fmt, width, height = _check_header(data, image, max_pixels, allowed_formats)
    denominator = reduction(fmt, width, height, keep_pixels)
    if denominator == 1:
        return decode_image(
            data, image=image, max_pixels=max_pixels, allowed_formats=allowed_formats
        ), 1.0
    img = _pil_open(data, fmt, image, max_pixels)
    try:
        img.draft("RGB", (-(-width // denominator), -(-height // denominator)))
        scale = img.size[0] / width
        img = ImageOps.exif_transpose(img).convert("RGB")
        array = cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2BGR)
    except Exception:  # hostile input: a zoo of decoder errors
        raise invalid_image(image) from None
    return DecodedImage(np.ascontiguousarray(array), fmt, array.shape[1], array.shape[0]), scale
