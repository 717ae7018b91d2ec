"""Small JPEG copies of inputs for the browser's result page (no EXIF, orientation applied)."""

from __future__ import annotations

import io
import logging

import cv2
import numpy as np
from PIL import Image, ImageOps

logger = logging.getLogger(__name__)

PREVIEW_MAX_SIDE = 800  # the "before" of the job page's comparison; thumbnails scale it down


def make_preview(data: bytes, *, max_side: int = PREVIEW_MAX_SIDE) -> bytes | None:
    """None when the image cannot be previewed; the swap itself does not depend on it."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            # draft() lets libjpeg decode at 1/2..1/8 scale: a 29 MP photo costs milliseconds.
            image.draft("RGB", (max_side * 2, max_side * 2))
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((max_side, max_side))
            out = io.BytesIO()
            upright.convert("RGB").save(out, "JPEG", quality=82)
            return out.getvalue()
    except Exception:  # any decoder error: no preview, never a failed request
        logger.info("preview not made", exc_info=True)
        return None


def preview_of_pixels(image_bgr: np.ndarray, *, max_side: int = PREVIEW_MAX_SIDE) -> bytes:
    """The same preview from pixels already in memory (a result the worker just made):
    no second decode of the encoded result (~6 ms at 1 MP, a PNG's full inflate)."""
    height, width = image_bgr.shape[:2]
    scale = max_side / max(height, width)
    if scale < 1:  # thumbnail(): shrink only, keep the aspect ratio
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image_bgr = cv2.resize(image_bgr, size, interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", image_bgr, [cv2.IMWRITE_JPEG_QUALITY, 82])
    if not ok:
        raise RuntimeError("JPEG encoder failed")
    return buf.tobytes()
