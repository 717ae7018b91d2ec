"""An enlarged source's noise is cleaned before the swap (texture.py): its
speckle and JPEG colour blocks must not grow into blotches and streaks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from swaps.engine import SwapOptions, detect_faces, texture
from swaps.engine import quality as q
from swaps.engine.pipeline import swap_face
from tests.images import ASTRONAUT, GRACE_HOPPER, load_fixture


def noisy(image: np.ndarray, luma: float, chroma: float, seed: int = 7) -> np.ndarray:
    """``image`` with Gaussian noise: ``luma`` levels on every channel alike and
    ``chroma`` levels on each channel apart."""
    rng = np.random.default_rng(seed)
    grey = rng.normal(0.0, luma, image.shape[:2])[..., None]
    colour = rng.normal(0.0, chroma, image.shape)
    return np.clip(image + grey + colour, 0, 255).astype(np.uint8)


def chroma_noise(image: np.ndarray, region: np.ndarray | None = None) -> float:
    ycc = cv2.cvtColor(image, cv2.COLOR_BGR2YCrCb)
    return sum(texture.noise_sigma(ycc[..., k], region) for k in (1, 2))


def luma_noise(image: np.ndarray, region: np.ndarray | None = None) -> float:
    return texture.noise_sigma(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), region)


def test_noise_sigma_reads_the_noise_not_the_shading():
    ramp = np.tile(np.linspace(40, 200, 256, dtype=np.float32), (256, 1))
    assert texture.noise_sigma(ramp) < 0.01
    rng = np.random.default_rng(1)
    assert texture.noise_sigma(ramp + rng.normal(0, 6, ramp.shape)) == pytest.approx(6, rel=0.1)


def test_a_face_laid_at_its_own_size_is_left_as_it_is():
    region = noisy(load_fixture(ASTRONAUT)[100:300, 150:350], 8, 8)
    assert texture.clean_source(region, 1.1) is region


def test_an_enlarged_source_loses_its_colour_noise_but_keeps_its_luma():
    region = noisy(np.full((200, 200, 3), (90, 120, 170), np.uint8), 6, 8)
    cleaned = texture.clean_source(region, 3.0)
    assert chroma_noise(cleaned) < 0.4 * chroma_noise(region)
    assert luma_noise(cleaned) > 0.8 * luma_noise(region)  # 3x: the luma is kept


def test_a_much_enlarged_source_loses_its_luma_noise_too():
    region = noisy(np.full((200, 200, 3), (90, 120, 170), np.uint8), 6, 0)
    assert luma_noise(texture.clean_source(region, 10.0)) < 0.6 * luma_noise(region)


@pytest.mark.usefixtures("engine_models")
def test_a_small_noisy_source_leaves_no_colour_blotches_on_a_big_face():
    source_full, target = load_fixture(ASTRONAUT), load_fixture(GRACE_HOPPER)
    marks = detect_faces(source_full)[0].landmarks
    small = cv2.resize(source_full, (128, 128), interpolation=cv2.INTER_AREA)  # face ~25 px
    source = noisy(small, 4, 10)
    dst_marks = detect_faces(target)[0].landmarks
    inner = q.inner_face(target.shape, dst_marks).astype(np.uint8)

    def swapped(clean: bool) -> np.ndarray:
        options = SwapOptions(clean_source=clean)
        return swap_face(source, marks * (128 / 512), target, dst_marks, options)

    # Enlarged ~8x, a pixel's colour noise is a blotch 8 px wide: read at that scale.
    def blotches(image: np.ndarray) -> float:
        return chroma_noise(cv2.resize(image, None, fx=1 / 8, fy=1 / 8), inner[::8, ::8])

    assert blotches(swapped(True)) < 0.6 * blotches(swapped(False))
