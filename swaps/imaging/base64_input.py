"""Images sent as text: a data URI or bare base64 (std or urlsafe), checked before decoding.

Only the base64 layer lives here; the bytes it yields still go through swaps.imaging.decoding.
"""

from __future__ import annotations

import base64
import binascii
import re

from swaps.imaging.errors import invalid_image, too_many_bytes
from swaps.imaging.headers import sniff_format

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
        raise invalid_image(image)
    return value[match.end() :]


def _decoded_length(b64_len: int) -> int:
    return b64_len // 4 * 3 + {0: 0, 1: 0, 2: 1, 3: 2}[b64_len % 4]


def decode_base64_image(value: str, *, image: str, max_bytes: int) -> bytes:
    """Data URI or bare base64 (std or urlsafe, any whitespace, padding optional)."""
    if not isinstance(value, str):
        raise invalid_image(image)
    # Cheap length guard first so a huge string costs nothing beyond its own memory.
    if len(value) > (max_bytes + 2) // 3 * 4 * _WS_SLACK + 512:
        raise too_many_bytes(image, max_bytes)
    padded = "".join(_split_data_uri(value, image).split())
    payload = padded.rstrip("=")
    if _decoded_length(len(payload)) > max_bytes:
        raise too_many_bytes(image, max_bytes)
    padding = len(padded) - len(payload)  # optional, but if present it must be right
    if not payload or len(payload) % 4 == 1 or (padding and (padding > 2 or len(padded) % 4)):
        raise invalid_image(image)
    payload = payload.translate(_B64_URLSAFE) + "=" * (-len(payload) % 4)
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise invalid_image(image) from None
    if sniff_format(data) is None:
        raise invalid_image(image)
    return data
