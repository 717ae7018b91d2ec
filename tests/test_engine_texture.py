"""An enlarged source's noise is cleaned before the swap (texture.py): its
speckle and JPEG colour blocks must not grow into blotches and streaks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from swaps.engine import SwapOptions, detect_faces, shape, texture, trade_off
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


def test_grain_octaves_run_from_the_pixel_level_to_a_hundredth_of_the_eyes():
    assert texture.grain_sigmas(20) == [0.8]  # a small face: the pixel level only
    assert texture.grain_sigmas(900) == [0.8, 1.6, 3.2, 6.4]
    grey = np.random.default_rng(3).normal(128, 20, (64, 64)).astype(np.float32)
    bands = texture.octaves(grey, [0.8, 1.6])
    rest = grey - sum(bands)  # what is coarser than the last octave: smooth
    everywhere = np.ones(grey.shape, np.uint8)
    finest = [texture.band_level(texture.octaves(g, [0.8])[0], everywhere) for g in (grey, rest)]
    assert finest[1] < 0.1 * finest[0]


def test_the_grain_noise_octaves_are_the_tiled_fields_own_with_no_seam():
    # Made once a process from the tile; a face larger than the tile must get
    # the octaves of the tiled field itself, across the tile's seam too.
    tile = texture._noise_tile()
    field = np.tile(tile, (2, 1))[: texture.NOISE_TILE + 200, :300]
    made = texture._noise_octaves(field.shape, 3)
    direct = texture.octaves(field, texture.grain_sigmas(400.0)[:3])
    inside = slice(40, -40), slice(40, -40)  # the direct field's own borders differ
    for got, want in zip(made, direct, strict=True):
        assert got.shape == field.shape
        assert np.abs(got[inside] - want[inside]).max() < 1e-4
    assert [b.shape for b in texture._noise_octaves((50, 60), 2)] == [(50, 60)] * 2


def test_a_texture_is_topped_up_to_the_level_wanted_and_never_past_it():
    assert texture.missing_share(3.0, 5.0) == pytest.approx(0.8)  # 3**2 + 4**2 = 5**2
    assert texture.missing_share(5.0, 5.0) == 0.0
    assert texture.missing_share(6.0, 5.0) == 0.0


def test_only_a_big_enlarged_face_takes_grain():
    assert texture.grain_share(8.0, 200) == 1.0
    assert texture.grain_share(1.1, 200) == 0.0  # laid at its own size
    assert texture.grain_share(8.0, 30) == 0.0  # a small face: its finest band is its features


def _grainy_swap(source: np.ndarray, scale: float, grain: bool) -> tuple[np.ndarray, np.ndarray]:
    """``source`` (the astronaut resized by ``scale``) into a grainy Grace Hopper
    twice her size (~170 px between the eyes): the result and the target."""
    big = cv2.resize(load_fixture(GRACE_HOPPER), None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    target = noisy(big, 5, 1)
    marks = detect_faces(load_fixture(ASTRONAUT))[0].landmarks * scale
    dst_marks = detect_faces(load_fixture(GRACE_HOPPER))[0].landmarks * 2 + 0.5
    out = swap_face(source, marks, target, dst_marks, SwapOptions(match_grain=grain))
    return out, target


@pytest.mark.usefixtures("engine_models")
def test_a_small_source_on_a_big_grainy_target_takes_its_grain():
    small = cv2.resize(load_fixture(ASTRONAUT), (128, 128), interpolation=cv2.INTER_AREA)
    marks = detect_faces(load_fixture(GRACE_HOPPER))[0].landmarks * 2 + 0.5
    plain, target = _grainy_swap(small, 0.25, grain=False)
    grained, _ = _grainy_swap(small, 0.25, grain=True)
    assert q.grain_ratio(target, plain, marks) < 0.5  # enlarged ~17x: smooth
    assert 0.75 < q.grain_ratio(target, grained, marks) < 1.25
    # Grain, not the target's own detail: what was added does not follow it.
    added, own = (
        cv2.cvtColor(im, cv2.COLOR_BGR2GRAY).astype(np.float32) for im in (grained, target)
    )
    added -= cv2.cvtColor(plain, cv2.COLOR_BGR2GRAY)
    inner = q.inner_face(target.shape, marks)
    fine = own - cv2.GaussianBlur(own, (0, 0), 0.8)
    assert abs(np.corrcoef(added[inner], fine[inner])[0, 1]) < 0.2
    again, _ = _grainy_swap(small, 0.25, grain=True)
    assert np.array_equal(again, grained)  # no random draw: the same bytes
    # Only the face changed: the outline, which the shape's morph may move out by
    # up to trade_off.MAX_MOVE face widths.
    points, size = shape.extend_landmarks(marks, SwapOptions().forehead)
    hull = np.zeros(target.shape[:2], np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(points[shape.OUTLINE].astype(np.int32)), 1)
    grow = int(trade_off.MAX_MOVE * size) + 2
    hull = cv2.dilate(hull, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    changed = np.any(grained != plain, axis=2)
    assert changed.any() and not (changed & (hull == 0)).any()


@pytest.mark.usefixtures("engine_models")
def test_a_source_laid_at_its_own_size_keeps_its_own_texture():
    big = cv2.resize(load_fixture(ASTRONAUT), (2048, 2048), interpolation=cv2.INTER_CUBIC)
    plain, _ = _grainy_swap(big, 4.0, grain=False)
    grained, _ = _grainy_swap(big, 4.0, grain=True)
    assert np.array_equal(plain, grained)
