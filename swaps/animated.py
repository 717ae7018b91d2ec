"""Animated GIF in and out: frames as BGR arrays, per-frame durations, loop count;
and ``swap_gif``, the whole job for an animated target (what the worker calls).

Pure module: no Django. Limits are arguments, as in ``swaps.imaging``.

Decoding checks the file's blocks first (``swaps.imaging.gif.scan_gif``: frame count
and canvas size without decoding a pixel), refuses more than ``max_frames``
frames, a canvas over ``max_pixels`` or more than ``max_total_pixels`` pixels
over all frames, and only then lets Pillow decode. Pillow composites each
frame onto the full canvas with the previous frame's disposal applied, so
every frame comes out as the picture a viewer shows at that moment.

Encoding quantises each frame to its own 256-colour palette (fast octree, no
dithering: dither noise would crawl from frame to frame), LZW-compresses it
with Pillow's encoder and writes the container itself (``swaps.imaging.gif``), so the
frame count, every duration and the loop count come back exactly, and the
provenance note rides in a comment extension.
"""

from __future__ import annotations

import io
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageSequence

from swaps.engine import swap_animation
from swaps.imaging import HARD_MAX_PIXELS, gif
from swaps.imaging.errors import ImageInputError, too_many_pixels
from swaps.imaging.watermark import add_watermark

DEFAULT_MAX_FRAMES = 300
# Frames x canvas pixels: the decoded frames take 3 bytes a pixel (~120 MB here) and
# the swapped copies as much again; 40 MP measured 384 MB peak RSS with the models.
# 40 MP is 130 frames of 640x480, or 300 frames of 365x365.
DEFAULT_MAX_TOTAL_PIXELS = 40_000_000
_MATTE = (255, 255, 255, 255)  # transparent pixels are shown over white
# Levels a pixel may drift before a frame stores it again: within GIF's own
# quantisation error, and it keeps a re-quantised GIF's shimmer out of the rectangles.
DEFAULT_TOLERANCE = 6
_TRANSPARENT_INDEX = 255


@dataclass(frozen=True)
class AnimationInfo:
    width: int
    height: int
    frames: int
    durations_ms: tuple[int, ...]
    loop: int | None  # 0 = forever, None = play once


@dataclass
class DecodedAnimation:
    frames: list[np.ndarray] = field(repr=False)  # HxWx3 BGR uint8, full canvas each
    durations_ms: list[int]
    loop: int | None
    width: int
    height: int
    # Per frame, HxW bool (True = transparent; those pixels are white in ``frames``),
    # or None for an opaque frame. Empty when no frame has transparency.
    transparent: list[np.ndarray | None] = field(default_factory=list, repr=False)


def _invalid(image: str) -> ImageInputError:
    return ImageInputError(
        "invalid_image_format", f"{image}: not a valid GIF image.", {"image": image}
    )


def _too_large(image: str, message: str, **details: int) -> ImageInputError:
    return ImageInputError("image_too_large", f"{image}: {message}", {"image": image, **details})


def probe_animation(
    data: bytes,
    *,
    image: str,
    max_pixels: int,
    max_frames: int = DEFAULT_MAX_FRAMES,
    max_total_pixels: int = DEFAULT_MAX_TOTAL_PIXELS,
) -> AnimationInfo:
    """Frame count, canvas, durations and loop from the GIF's blocks, limits checked."""
    try:
        scan = gif.scan_gif(data, max_frames=max_frames)
    except gif.GifFormatError:
        raise _invalid(image) from None
    if scan.frames > max_frames:
        raise _too_large(image, f"too many frames (limit {max_frames}).", max_frames=max_frames)
    pixels = scan.width * scan.height
    if pixels > min(max_pixels, HARD_MAX_PIXELS):
        raise too_many_pixels(image, scan.width, scan.height, max_pixels)
    if pixels * scan.frames > max_total_pixels:
        raise _too_large(
            image,
            f"too many pixels over all frames (limit {max_total_pixels}).",
            max_total_pixels=max_total_pixels,
            frames=scan.frames,
        )
    return AnimationInfo(scan.width, scan.height, scan.frames, scan.durations_ms, scan.loop)


def gif_frame_count(data: bytes, limit: int = DEFAULT_MAX_FRAMES) -> int:
    """Frames in a GIF (counting stops at ``limit`` + 1); 0 if ``data`` is not a GIF."""
    try:
        return gif.scan_gif(data, max_frames=limit).frames
    except gif.GifFormatError:
        return 0


def decode_animation(
    data: bytes,
    *,
    image: str,
    max_pixels: int,
    max_frames: int = DEFAULT_MAX_FRAMES,
    max_total_pixels: int = DEFAULT_MAX_TOTAL_PIXELS,
) -> DecodedAnimation:
    """Every frame of a GIF as the full composited canvas (a still GIF gives one)."""
    info = probe_animation(
        data,
        image=image,
        max_pixels=max_pixels,
        max_frames=max_frames,
        max_total_pixels=max_total_pixels,
    )
    try:
        decoded = _decode_frames(data, info)
    except ImageInputError:
        raise
    except Exception:  # Pillow raises many types on hostile input, MemoryError included
        raise _invalid(image) from None
    if len(decoded) != info.frames:
        raise _invalid(image)
    frames, masks = [f for f, _ in decoded], [m for _, m in decoded]
    transparent = masks if any(m is not None for m in masks) else []
    return DecodedAnimation(
        frames, list(info.durations_ms), info.loop, info.width, info.height, transparent
    )


def _decode_frames(data: bytes, info: AnimationInfo) -> list[tuple[np.ndarray, np.ndarray | None]]:
    frames = []
    with Image.open(io.BytesIO(data), formats=["GIF"]) as img:
        for frame in ImageSequence.Iterator(img):
            if len(frames) == info.frames:
                break
            frames.append(_to_bgr(frame, info.width, info.height))
    return frames


def _to_bgr(frame: Image.Image, width: int, height: int) -> tuple[np.ndarray, np.ndarray | None]:
    """The frame over a white matte, and where it is transparent (None: nowhere)."""
    mask = None
    if frame.mode == "RGBA" or "transparency" in frame.info:
        rgba = frame.convert("RGBA")
        alpha = np.asarray(rgba.getchannel("A"))
        mask = _fit(alpha < 128, width, height, True) if (alpha < 128).any() else None
        frame = Image.alpha_composite(Image.new("RGBA", frame.size, _MATTE), rgba)
    bgr = cv2.cvtColor(np.asarray(frame.convert("RGB")), cv2.COLOR_RGB2BGR)
    return _fit(bgr, width, height, 255), mask


def _fit(array: np.ndarray, width: int, height: int, fill: int | bool) -> np.ndarray:
    """``array`` on a canvas of exactly (height, width) (defensive: Pillow's frames
    never outgrow the canvas the block scan computed)."""
    if array.shape[:2] == (height, width):
        return array
    canvas = np.full((height, width, *array.shape[2:]), fill, array.dtype)
    h, w = min(height, array.shape[0]), min(width, array.shape[1])
    canvas[:h, :w] = array[:h, :w]
    return canvas


def encode_animation(
    frames: Sequence[np.ndarray],
    durations_ms: Sequence[int],
    *,
    loop: int | None,
    note: str,
    tolerance: int = DEFAULT_TOLERANCE,
    transparent: Sequence[np.ndarray | None] = (),
) -> bytes:
    """A GIF of ``frames`` (BGR uint8, all one size) with these durations and loop count,
    a palette per frame, ``note`` in a comment extension, and no other metadata.

    After the first, each frame stores only the rectangle around the pixels that
    moved more than ``tolerance`` levels since they were last stored (0: any
    change): less to quantise and compress, and still areas keep their colours
    instead of shimmering as each frame's palette changes. The error this allows
    never accumulates: pixels are compared with their values when last stored.

    ``transparent`` (as ``DecodedAnimation.transparent``) keeps transparency:
    then every frame is stored whole and cleared after it is shown.
    """
    if not frames or len(frames) != len(durations_ms):
        raise ValueError("need one duration per frame, and at least one frame")
    height, width = frames[0].shape[:2]
    if any(f.shape != (height, width, 3) or f.dtype != np.uint8 for f in frames):
        raise ValueError("frames must all be HxWx3 uint8 of one size")
    if transparent and len(transparent) != len(frames):
        raise ValueError("need one transparency mask (or None) per frame")
    if transparent:
        encoded = [
            _encode_frame(f, int(d), (0, 0), m, clear=True)
            for f, d, m in zip(frames, durations_ms, transparent, strict=True)
        ]
    else:
        encoded = _encode_changes(frames, durations_ms, tolerance)
    return gif.assemble_gif(encoded, (width, height), loop, note)


def _encode_changes(
    frames: Sequence[np.ndarray], durations_ms: Sequence[int], tolerance: int
) -> list[gif.GifFrame]:
    encoded, stored = [], frames[0].copy()
    for i, (frame, duration) in enumerate(zip(frames, durations_ms, strict=True)):
        x, y, w, h = changed_rect(stored if i else None, frame, tolerance)
        encoded.append(_encode_frame(frame[y : y + h, x : x + w], int(duration), (x, y)))
        stored[y : y + h, x : x + w] = frame[y : y + h, x : x + w]
    return encoded


def changed_rect(
    stored: np.ndarray | None, frame: np.ndarray, tolerance: int = 0
) -> tuple[int, int, int, int]:
    """Bounding box (x, y, w, h) of the pixels that differ by more than ``tolerance``;
    the whole frame if nothing is stored yet, one pixel if nothing changed (a GIF
    frame is never empty)."""
    height, width = frame.shape[:2]
    if stored is None:
        return 0, 0, width, height
    diff = cv2.absdiff(stored, frame).reshape(height, width * 3)
    if tolerance > 0:
        diff = cv2.threshold(diff, tolerance, 255, cv2.THRESH_TOZERO)[1]
    x, y, w, h = cv2.boundingRect(diff)
    if w == 0 or h == 0:
        return 0, 0, 1, 1
    x0, x1 = x // 3, (x + w - 1) // 3 + 1
    return x0, y, x1 - x0, h


def _encode_frame(
    pixels: np.ndarray,
    duration_ms: int,
    origin: tuple[int, int],
    mask: np.ndarray | None = None,
    clear: bool = False,
) -> gif.GifFrame:
    rgb = Image.fromarray(cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB))
    if not clear:
        paletted = rgb.quantize(256, method=Image.Quantize.FASTOCTREE)
        palette = bytes(paletted.getpalette() or b"")
        return gif.GifFrame(paletted.tobytes("gif", "P", 8), palette, rgb.size, duration_ms, origin)
    # Cleared after it is shown, so the next frame's transparent pixels show the
    # background, not this frame; 255 colours and index 255 for transparency.
    paletted = rgb.quantize(255, method=Image.Quantize.FASTOCTREE)
    indices = np.array(paletted, dtype=np.uint8)
    if mask is not None:
        indices[mask] = _TRANSPARENT_INDEX
    palette = bytes(paletted.getpalette() or b"")[: 3 * _TRANSPARENT_INDEX]
    lzw = Image.fromarray(indices, "P").tobytes("gif", "P", 8)
    return gif.GifFrame(
        lzw, palette, rgb.size, duration_ms, origin, _TRANSPARENT_INDEX, gif.DISPOSE_BACKGROUND
    )


# --------------------------------------------------------------------------- the whole job


@dataclass
class AnimatedSwap:
    data: bytes  # the result GIF
    faces: dict[str, Any]
    timings_ms: dict[str, float]
    frames: int


def swap_gif(
    data: bytes,
    *,
    note: str,
    max_pixels: int,
    watermark: bool = False,
    max_frames: int = DEFAULT_MAX_FRAMES,
    max_total_pixels: int = DEFAULT_MAX_TOTAL_PIXELS,
    **swap_args: Any,
) -> AnimatedSwap:
    """An animated GIF target, end to end: decode, ``swap_animation`` (``swap_args``:
    its keyword arguments: sources, identities, indices, reference, options), the
    visible mark on every frame if asked, encode with the same timing, loop and
    transparency. Raises ImageInputError or EngineError."""
    begin = time.perf_counter()
    decoded = decode_animation(
        data,
        image="target_image",
        max_pixels=max_pixels,
        max_frames=max_frames,
        max_total_pixels=max_total_pixels,
    )
    decoded_at = time.perf_counter()
    result = swap_animation(decoded.frames, decoded.durations_ms, **swap_args)
    frames = [add_watermark(f) for f in result.frames] if watermark else result.frames
    swapped_at = time.perf_counter()
    out = encode_animation(
        frames, decoded.durations_ms, loop=decoded.loop, note=note, transparent=decoded.transparent
    )
    timings = {
        "decode": (decoded_at - begin) * 1e3,
        **result.timings_ms,
        "encode": (time.perf_counter() - swapped_at) * 1e3,
    }
    return AnimatedSwap(out, result.faces, timings, len(frames))
