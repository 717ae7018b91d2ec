"""Small JPEG copies of inputs for the browser's result page (no EXIF, orientation applied)."""

from __future__ import annotations

import io
import logging

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
