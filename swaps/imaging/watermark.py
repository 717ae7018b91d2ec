"""A small visible mark saying the image was altered, scaled to the image (pure OpenCV)."""

from __future__ import annotations

import cv2
import numpy as np

WATERMARK_TEXT = "AI face swap"
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def add_watermark(image: np.ndarray, text: str = WATERMARK_TEXT) -> np.ndarray:
    """A copy of `image` with `text` on a translucent band in the bottom-right corner."""
    out = image.copy()
    height, width = out.shape[:2]
    # About 1/40 of the short side tall: readable on a phone, small on a print;
    # never wider than ~45% of the image (tiny images get a tiny mark).
    (unit_w, _), _ = cv2.getTextSize(text, _FONT, 1.0, 1)
    scale = min(max(0.3, min(width, height) / 40 / 22), 0.45 * width / unit_w)
    thickness = max(1, round(scale * 1.6))
    (text_w, text_h), baseline = cv2.getTextSize(text, _FONT, scale, thickness)
    pad = max(2, text_h // 2)
    x1, y1 = max(0, width - text_w - 3 * pad), max(0, height - text_h - baseline - 3 * pad)
    x2, y2 = min(width, x1 + text_w + 2 * pad), min(height, y1 + text_h + baseline + 2 * pad)
    band = out[y1:y2, x1:x2]
    band[:] = (band.astype(np.float32) * 0.45).astype(out.dtype)
    cv2.putText(
        out,
        text,
        (x1 + pad, y2 - pad - baseline),
        _FONT,
        scale,
        (255, 255, 255),
        thickness,
        cv2.LINE_AA,
    )
    return out
