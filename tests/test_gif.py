"""Animated GIF in and out (swaps.imaging.gif, swaps.animated) and the provenance note in GIFs."""

from __future__ import annotations

import io
import struct

import cv2
import numpy as np
import pytest
from PIL import Image

from swaps import animated
from swaps.animated import decode_animation, encode_animation, gif_frame_count, probe_animation
from swaps.imaging import gif
from swaps.imaging.errors import ImageInputError
from swaps.imaging.headers import sniff_format
from swaps.imaging.provenance import read_note
from tests.animations import moving_face_frames, pillow_gif

NOTE = "Altered by FaceSwap: this image contains an AI face swap."
MAX_PIXELS = 10_000_000


@pytest.fixture(scope="module")
def clip() -> list[np.ndarray]:
    return moving_face_frames(count=6, size=(160, 120), face_scale=0.2)


def _decode(data: bytes, **limits: int) -> animated.DecodedAnimation:
    return decode_animation(data, image="target_image", max_pixels=MAX_PIXELS, **limits)


def _solid_frames(count: int, size: tuple[int, int] = (24, 16)) -> list[np.ndarray]:
    return [np.full((size[1], size[0], 3), 10 * i, np.uint8) for i in range(count)]


@pytest.mark.parametrize("loop", [0, 3, None])
def test_round_trip_keeps_frames_durations_and_loop(clip, loop):
    durations = [40, 70, 100, 20, 500, 60]
    data = encode_animation(clip, durations, loop=loop, note=NOTE)
    assert sniff_format(data) == "gif"
    back = _decode(data)
    assert len(back.frames) == len(clip)
    assert back.durations_ms == durations
    assert back.loop == loop
    assert (back.width, back.height) == (160, 120)
    for original, decoded in zip(clip, back.frames, strict=True):
        assert decoded.shape == original.shape and decoded.dtype == np.uint8
        assert np.abs(decoded.astype(int) - original).mean() < 4  # palette error only


def test_identical_frames_are_not_merged():
    """Pillow's writer merges equal consecutive frames; ours keeps every one."""
    frames = [np.full((8, 8, 3), 200, np.uint8)] * 4
    back = _decode(encode_animation(frames, [30, 40, 50, 60], loop=0, note=NOTE))
    assert len(back.frames) == 4 and back.durations_ms == [30, 40, 50, 60]


def test_lossless_mode_stores_every_change():
    frames = _solid_frames(3)
    frames[2] = frames[1].copy()
    frames[2][5, 7] += 1  # one level, one pixel
    back = _decode(encode_animation(frames, [50] * 3, loop=0, note=NOTE, tolerance=0))
    assert back.frames[2][5, 7, 0] == frames[2][5, 7, 0]


def test_changed_rect():
    a = np.zeros((10, 20, 3), np.uint8)
    b = a.copy()
    b[2:5, 7:9, 1] = 50
    assert animated.changed_rect(None, b) == (0, 0, 20, 10)
    assert animated.changed_rect(a, b) == (7, 2, 2, 3)
    assert animated.changed_rect(a, a) == (0, 0, 1, 1)
    assert animated.changed_rect(a, b, tolerance=60) == (0, 0, 1, 1)


@pytest.mark.parametrize("disposal", [1, 2])
def test_decodes_partial_frames_onto_the_full_canvas(clip, disposal):
    """Pillow stores later frames as changed rectangles; we get whole pictures back."""
    data = pillow_gif(clip, [80] * len(clip), disposal=disposal)
    back = _decode(data)
    assert len(back.frames) == len(clip)
    for original, decoded in zip(clip, back.frames, strict=True):
        assert np.abs(decoded.astype(int) - original).mean() < 6


def test_transparent_pixels_show_over_white():
    img = Image.new("P", (10, 10), 1)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    img.paste(0, (0, 0, 5, 10))
    out = io.BytesIO()
    img.save(out, "GIF", transparency=0)
    frame = _decode(out.getvalue()).frames[0]
    assert frame[5, 2].tolist() == [255, 255, 255]  # transparent -> white
    assert frame[5, 7].tolist() == [0, 0, 255]  # red, as BGR


def test_still_gif_is_one_frame(clip):
    data = pillow_gif(clip[:1], [0], loop=None)
    back = _decode(data)
    assert len(back.frames) == 1 and back.loop is None
    assert gif_frame_count(data) == 1


def test_probe_reads_blocks_without_decoding(clip, monkeypatch):
    data = pillow_gif(clip, [90] * len(clip), loop=2)
    monkeypatch.setattr(Image, "open", lambda *a, **k: pytest.fail("decoded"))
    info = probe_animation(data, image="target_image", max_pixels=MAX_PIXELS)
    assert (info.width, info.height, info.frames, info.loop) == (160, 120, len(clip), 2)
    assert info.durations_ms == (90,) * len(clip)
    assert gif_frame_count(data) == len(clip)
    assert gif_frame_count(b"\x89PNG\r\n\x1a\n") == 0


def _many_tiny_frames(count: int, screen: tuple[int, int]) -> bytes:
    """A hostile GIF: a big logical screen, ``count`` 1x1 frames (a few bytes each)."""
    frame = gif.GifFrame(Image.new("P", (1, 1)).tobytes("gif", "P", 8), b"\0" * 768, (1, 1))
    data = gif.assemble_gif([frame] * count, (1, 1), 0, "")
    return data[:6] + struct.pack("<HH", *screen) + data[10:]


def test_too_many_frames_refused_before_decoding(monkeypatch):
    data = _many_tiny_frames(301, (8, 8))
    monkeypatch.setattr(Image, "open", lambda *a, **k: pytest.fail("decoded"))
    with pytest.raises(ImageInputError) as err:
        _decode(data, max_frames=300)
    assert err.value.code == "image_too_large"
    assert err.value.details["max_frames"] == 300


def test_frame_pixel_bomb_refused_before_decoding(monkeypatch):
    """200 frames of a 2000x2000 canvas: 160 KB of file, 800 million pixels to paint."""
    data = _many_tiny_frames(200, (2000, 2000))
    assert len(data) < 200_000
    monkeypatch.setattr(Image, "open", lambda *a, **k: pytest.fail("decoded"))
    with pytest.raises(ImageInputError) as err:
        _decode(data)
    assert err.value.code == "image_too_large"
    assert err.value.details["frames"] == 200


def test_canvas_over_the_pixel_limit_refused():
    with pytest.raises(ImageInputError) as err:
        decode_animation(
            _many_tiny_frames(1, (5000, 5000)), image="target_image", max_pixels=1_000_000
        )
    assert err.value.code == "image_too_large"


def test_frame_outside_the_screen_grows_the_canvas():
    frame = gif.GifFrame(
        Image.new("P", (4, 4)).tobytes("gif", "P", 8), b"\0" * 768, (4, 4), origin=(30, 40)
    )
    data = gif.assemble_gif([frame], (8, 8), None, "")
    scan = gif.scan_gif(data)
    assert (scan.width, scan.height) == (34, 44)


@pytest.mark.parametrize(
    "data",
    [b"", b"GIF89a", b"GIF89a" + b"\0" * 7, b"\x89PNG\r\n\x1a\n" + b"\0" * 40, b"GIF87a" * 3],
)
def test_not_a_gif_animation_is_invalid_format(data):
    with pytest.raises(ImageInputError) as err:
        _decode(data)
    assert err.value.code == "invalid_image_format"


def test_truncated_gif_fails_cleanly(clip):
    data = encode_animation(clip, [50] * len(clip), loop=0, note=NOTE)
    for cut in (len(data) // 3, len(data) // 2, len(data) - 5):
        try:
            back = _decode(data[:cut])
        except ImageInputError as exc:
            assert exc.code in {"invalid_image_format", "image_too_large"}
        else:
            assert 1 <= len(back.frames) <= len(clip)


def test_note_is_in_a_comment_extension(clip):
    data = encode_animation(clip, [50] * len(clip), loop=0, note=NOTE)
    assert read_note(data) == NOTE
    assert b"\x21\xfe" in data  # comment extension label
    unicode_note = "Altered by FaceSwap — “AI” ✓"
    assert read_note(encode_animation(clip[:1], [0], loop=None, note=unicode_note)) == unicode_note


def test_only_our_metadata_is_written(clip):
    """No application data but the loop count, one comment, nothing from the input."""
    source = pillow_gif(clip, [50] * len(clip), comment=b"secret input comment")
    back = _decode(source)
    data = encode_animation(back.frames, back.durations_ms, loop=back.loop, note=NOTE)
    assert b"secret" not in data
    assert read_note(data) == NOTE
    assert data.count(b"\x21\xff") == 1  # the NETSCAPE loop extension only


def test_read_note_on_other_gifs():
    out = io.BytesIO()
    Image.new("P", (4, 4)).save(out, "GIF", comment=b"hello")
    assert read_note(out.getvalue()) == "hello"
    out = io.BytesIO()
    Image.new("P", (4, 4)).save(out, "GIF")
    assert read_note(out.getvalue()) is None
    assert read_note(b"GIF89a") is None


def test_encode_rejects_mismatched_input():
    frames = _solid_frames(2)
    with pytest.raises(ValueError):
        encode_animation(frames, [10], loop=0, note=NOTE)
    with pytest.raises(ValueError):
        encode_animation([], [], loop=0, note=NOTE)
    with pytest.raises(ValueError):
        encode_animation([frames[0], cv2.resize(frames[1], (5, 5))], [1, 1], loop=0, note=NOTE)


def _transparent_gif() -> tuple[bytes, list[np.ndarray]]:
    """Three frames of a red square moving over a transparent background."""
    frames, masks = [], []
    for i in range(3):
        img = Image.new("P", (20, 10), 0)
        img.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
        img.paste(1, (3 * i, 2, 3 * i + 6, 8))
        frames.append(img)
        mask = np.ones((10, 20), bool)
        mask[2:8, 3 * i : 3 * i + 6] = False
        masks.append(mask)
    out = io.BytesIO()
    frames[0].save(
        out,
        "GIF",
        save_all=True,
        append_images=frames[1:],
        duration=[50] * 3,
        loop=0,
        transparency=0,
        disposal=2,
    )
    return out.getvalue(), masks


def test_transparency_is_decoded_and_kept():
    data, masks = _transparent_gif()
    back = _decode(data)
    assert len(back.transparent) == 3
    for mask, got, frame in zip(masks, back.transparent, back.frames, strict=True):
        assert np.array_equal(got, mask)
        assert (frame[mask] == 255).all()  # shown over white for the engine
    again = _decode(
        encode_animation(
            back.frames, back.durations_ms, loop=back.loop, note=NOTE, transparent=back.transparent
        )
    )
    for mask, got in zip(masks, again.transparent, strict=True):
        assert np.array_equal(got, mask)
    assert again.frames[2][5, 8].tolist() == [0, 0, 255]


def test_opaque_gif_has_no_transparency(clip):
    assert _decode(encode_animation(clip, [50] * len(clip), loop=0, note=NOTE)).transparent == []


def test_swap_gif_end_to_end(engine_models, astronaut):
    """The worker's one call: frames, durations, loop, note and the visible mark."""
    frames = moving_face_frames(count=4)
    data = pillow_gif(frames, [70, 80, 90, 100], loop=5)
    plain = animated.swap_gif(data, note=NOTE, max_pixels=MAX_PIXELS, sources=[astronaut])
    marked = animated.swap_gif(
        data, note=NOTE, max_pixels=MAX_PIXELS, watermark=True, sources=[astronaut]
    )
    assert plain.frames == 4 and plain.faces["frames_swapped"] == 4
    assert {"decode", "encode", "total"} <= set(plain.timings_ms)
    for result in (plain, marked):
        back = _decode(result.data)
        assert back.durations_ms == [70, 80, 90, 100] and back.loop == 5
        assert read_note(result.data) == NOTE
    corner = (slice(440, 480), slice(560, 640))
    plain_frames, marked_frames = _decode(plain.data).frames, _decode(marked.data).frames
    assert all(
        np.abs(m[corner].astype(int) - p[corner]).mean() > 5
        for p, m in zip(plain_frames, marked_frames, strict=True)
    )


def _solid_frame(colour: int, size: tuple[int, int], origin=(0, 0), disposal=1) -> gif.GifFrame:
    """A one-colour frame: palette entry 0 = ``colour`` (as 0xRRGGBB)."""
    palette = colour.to_bytes(3, "big") + b"\0" * 765
    lzw = Image.new("P", size, 0).tobytes("gif", "P", 8)
    return gif.GifFrame(lzw, palette, size, 100, origin, disposal=disposal)


@pytest.mark.parametrize(
    ("disposal", "expected_at_green"),
    [(1, [0, 255, 0]), (3, [255, 0, 0])],
    ids=["keep", "restore-previous"],
)
def test_disposal_methods_are_applied(disposal, expected_at_green):
    """Red canvas; a green patch with the given disposal; then a blue patch elsewhere.
    The third frame shows what the green patch's disposal left behind. (Clearing to
    the background is covered by the transparency and Pillow-written GIF tests.)"""
    frames = [
        _solid_frame(0xFF0000, (20, 10)),
        _solid_frame(0x00FF00, (4, 4), origin=(2, 2), disposal=disposal),
        _solid_frame(0x0000FF, (4, 4), origin=(12, 4)),
    ]
    back = _decode(gif.assemble_gif(frames, (20, 10), 0, ""))
    third = back.frames[2]
    assert third[3, 3][::-1].tolist() == expected_at_green  # BGR -> RGB
    assert third[5, 13][::-1].tolist() == [0, 0, 255]
    assert third[8, 18][::-1].tolist() == [255, 0, 0]
