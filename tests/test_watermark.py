"""The visible mark: small, in the corner, and scaled to the image."""

from __future__ import annotations

import numpy as np
import pytest

from swaps.imaging.watermark import add_watermark


def _mark_box(width: int, height: int) -> tuple[int, int, int, int]:
    image = np.full((height, width, 3), 128, np.uint8)
    out = add_watermark(image)
    assert out.shape == image.shape and not np.shares_memory(out, image)
    ys, xs = np.nonzero(np.any(out != image, axis=2))
    return int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


def test_mark_sits_in_the_bottom_right_corner():
    x, y, w, h = _mark_box(800, 600)
    assert x + w > 780 and y + h > 580
    assert x > 400 and y > 500


@pytest.mark.parametrize("factor", [3, 10])
def test_mark_grows_with_the_image(factor):
    _, _, w1, h1 = _mark_box(400, 300)
    _, _, w2, h2 = _mark_box(400 * factor, 300 * factor)
    assert h2 / h1 == pytest.approx(factor, rel=0.25)
    assert w2 / w1 == pytest.approx(factor, rel=0.25)


@pytest.mark.parametrize("size", [(8, 8), (40, 40), (120, 90), (300, 4000), (4000, 300)])
def test_mark_stays_small_on_any_shape(size):
    width, height = size
    _, _, w, h = _mark_box(width, height)
    assert w <= 0.65 * width
    assert h <= max(6, 0.2 * min(width, height))
