"""The swap pipeline: detect, pick faces, warp, mask, colour-correct, blend."""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from . import (
    blend,
    blend_weights,
    colour,
    detail,
    enhance,
    exposure,
    hands,
    lifted,
    mask,
    occluders,
    outer,
    relight,
    shape,
    texture,
    trade_off,
    warp,
)
from .detect import Timer
from .options import SwapOptions
from .planes import channels_of, scaled_channels
from .regions import Analysis, Crop, face_scope

# A source face enlarged onto the target is sampled bicubically: bilinear
# sampling is a tent filter at every pixel and softens the features the
# recogniser reads (held-out d_src 0.401 -> 0.398; bicubic for every pair, 0.394,
# but a sharp source shrunk first (``prefilter_below``) then keeps detail up to
# the outline that the engine test's seam ratio reads as a seam: 1.42, over 1.35).
CUBIC_FROM = 1.0


@dataclass
class SwapResult:
    image: np.ndarray
    faces: dict[str, Any]
    timings_ms: dict[str, float] = field(default_factory=dict)


def _source_for_warp(
    source: np.ndarray, points: np.ndarray, src_size: float, dst_size: float, opts: SwapOptions
) -> tuple[np.ndarray, np.ndarray]:
    """The source image to sample from: prefiltered if it must shrink a lot,
    its noise cleaned if it must grow (``texture``)."""
    scale = dst_size / src_size
    region = Crop.around(points[shape.OUTLINE], 0.15 * src_size, source.shape)
    if scale < opts.prefilter_below:
        box = (region.x, region.y, region.w, region.h)
        return warp.prefilter_source(source, points, box, scale)
    if opts.clean_source and texture.enlargement_share(scale) > 0:
        cleaned = texture.clean_source(source[region.slices()], scale)
        return cleaned, points - region.origin
    return source, points


def swap_face(
    source: np.ndarray,
    src_landmarks: np.ndarray,
    target: np.ndarray,
    dst_landmarks: np.ndarray,
    opts: SwapOptions | None = None,
    timer: Timer | None = None,
    held: list[np.ndarray] | None = None,
) -> np.ndarray:
    """Put the source face (68 landmarks) onto the target face; returns a new image.

    Only a crop around the target face is processed; outside the face mask the
    target's pixels are copied unchanged. ``held``: as ``paste_face``'s.
    """
    out = target.copy()
    paste_face(out, source, src_landmarks, dst_landmarks, opts, timer, original=target, held=held)
    return out


def held_hands(image: np.ndarray, landmarks: np.ndarray, opts: SwapOptions) -> list[np.ndarray]:
    """The target's hands round the face of these 68 ``landmarks`` (``hands``), each
    (21, 2) in ``image`` pixels; none unless ``opts.keep_hands``. Found on the
    whole photo: a hand over the chin has its palm below the face."""
    return hands.kept_hands(image, landmarks) if opts.keep_hands else []


def paste_face(
    image: np.ndarray,
    source: np.ndarray,
    src_landmarks: np.ndarray,
    dst_landmarks: np.ndarray,
    opts: SwapOptions | None = None,
    timer: Timer | None = None,
    original: np.ndarray | None = None,
    held: list[np.ndarray] | None = None,
) -> None:
    """``swap_face`` in place: the result is written into ``image`` (which may be a
    view), only inside the crop around the face, so no full-size copy is made.

    ``original`` is ``image`` before the swap, for ``opts.enhance``; without it a
    copy of ``image`` is taken, and only when enhancing. ``held``: the target's
    hands (``held_hands``, in ``image`` pixels); None: found in ``image``.
    """
    opts = opts or SwapOptions()
    timer = timer or Timer()
    start = time.perf_counter()
    if held is None and opts.keep_hands:
        held = held_hands(image, dst_landmarks, opts)
        start = timer.add("hands", start)
    src_points, src_size = shape.extend_landmarks(src_landmarks, opts.forehead)
    dst_points, dst_size = shape.extend_landmarks(dst_landmarks, opts.forehead)
    keep = trade_off.resolve(
        opts.likeness, opts.source_shape, opts.source_colour, opts.erode, opts.feather
    )
    move = trade_off.MAX_MOVE * dst_size
    dst_points = shape.morph_towards(dst_points, src_points, keep.shape, max_move=move)
    crop = Crop.around(dst_points[shape.OUTLINE], 2.0, image.shape)
    dst_local = dst_points - crop.origin
    scale = min(1.0, opts.analysis_face_px / dst_size)
    grid = (max(2, math.ceil(crop.w * scale)), max(2, math.ceil(crop.h * scale)))
    sampled, src_local = _source_for_warp(source, src_points, src_size, dst_size, opts)
    interpolation = cv2.INTER_CUBIC if dst_size / src_size >= CUBIC_FROM else cv2.INTER_LINEAR
    warped = warp.warp_face(
        sampled, src_local, dst_local, shape.TRIANGLES, crop.size, grid, interpolation
    )
    start = timer.add("warp", start)
    if opts.enhance and original is None:
        original = image.copy()  # enhance compares with the face before the swap
    # The target's own face (before the morph): where its light is read.
    own = dst_landmarks[: shape.N_LANDMARKS] - crop.origin
    iod = float(np.linalg.norm(own[36:42].mean(axis=0) - own[42:48].mean(axis=0)))
    grain = texture.grain_share(dst_size / src_size, iod) if opts.match_grain else 0.0
    held = [p - crop.origin for p in held or []]
    with face_scope():  # what several steps compute alike, computed once a face
        _composite(image, crop, warped, (dst_local, own), dst_size, opts, keep, grain, held)
    start = timer.add("blend", start)
    if opts.enhance:
        enhance.enhance_face(image, original, dst_landmarks, in_place=True)
        timer.add("enhance", start)


def _composite(
    image: np.ndarray,
    crop: Crop,
    warped: np.ndarray,
    points: tuple[np.ndarray, np.ndarray],
    face_size: float,
    opts: SwapOptions,
    keep: trade_off.Blend,
    grain: float = 0.0,
    held: list[np.ndarray] | None = None,
) -> None:
    """Mask, colour-correct and blend ``warped`` into ``image``'s crop, in place.
    ``points``: the face model's points as morphed and the target's 68
    landmarks as found (both in crop pixels); ``grain``: 0..1 of the target's
    grain the face may take (``texture.add_grain``); ``held``: the target's
    hands (crop pixels)."""
    dst_local, own = points
    target_crop = image[crop.slices()]
    grid = Analysis.of(warped, target_crop, points, face_size, opts.analysis_face_px)
    # The source's own glasses, looked for once and only if a step asks.
    worn = functools.cache(lambda: occluders.glasses_mask(grid.source, grid.points, grid.iods[0]))
    frames = blend_weights.target_glasses(grid, worn) if opts.keep_glasses else None
    if opts.keep_occluders or held:
        grid, frames = blend_weights.in_front_of_face(grid, frames, held or [], opts.keep_occluders)
    soft = blend_weights.soft_mask(grid, dst_local, face_size, opts, keep, frames, worn)
    if opts.match_sharpness:
        sigma = detail.source_blur(warped, target_crop, dst_local[shape.INNER_FACE], face_size)
        warped = detail.soften(warped, sigma)
    shadow = None  # how strongly the light lifts the source out of its shadow, and the skin
    if opts.match_light:
        gain, shadow = _lit_gain(grid, dst_local, own, face_size, opts, keep, frames)
    else:
        outline = dst_local[shape.OUTLINE]
        gain = colour.match_colour(warped, target_crop, outline, face_size, opts.colour_sigma)
        gain = colour.keep_source(gain, keep.colour)
    if shadow is not None and opts.deep_shadow:
        soft = blend_weights.with_target_skin(soft, grid, gain, shadow[0])
    soft = mask.upsample(soft, grid.size)
    face = blend.apply_gain(warped, gain)
    if shadow is not None and opts.lifted_noise:
        face = lifted.even_noise(face, *shadow, grid.iods[0] * grid.step[0])
    if grain > 0.0:
        face = _with_grain(face, target_crop, grid, own, grain)
    # Reads of the crop are all done: the blend may overwrite it.
    blend.blend(target_crop, face, soft, out=target_crop)


def _with_grain(
    face: np.ndarray, target_crop: np.ndarray, grid: Analysis, own: np.ndarray, share: float
) -> np.ndarray:
    """``face`` with ``share`` of the grain it lacks (``texture.add_grain``) on
    its skin, the features (eyes, brows, lips, nostrils) of the morphed face
    left out; levels read on the central face (the target's own 68 points'
    hull shrunk to 0.7, as ``quality.grain_ratio``), features out. ``own``: the
    target's 68 landmarks as found, in crop pixels."""
    features, iod = grid.features[0], grid.iods[0]
    skin = cv2.GaussianBlur(1.0 - features, (0, 0), max(0.05 * iod, 0.5)) * share
    centre = own.mean(axis=0)
    central = mask.hull_mask((own - centre) * 0.7 + centre, grid.grid, grid.step)
    inner = ((central > 0.5) & (features == 0)).astype(np.uint8)
    skin, inner = (cv2.resize(m, grid.size, interpolation=cv2.INTER_LINEAR) for m in (skin, inner))
    return texture.add_grain(face, target_crop, skin, inner, iod * grid.step[0])


def _lit_gain(
    grid: Analysis,
    dst_local: np.ndarray,
    own: np.ndarray,
    face_size: float,
    opts: SwapOptions,
    keep: trade_off.Blend,
    frames: np.ndarray | None = None,
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """The gain on the analysis grid that puts the target's light (``relight``),
    then its skin colour (``colour``), half its tone curve and its relief
    (``exposure``), its light's direction over the central face
    (``relight.plane_gain``), then part of its local skin colour on the outer
    face (``outer``) on the warped source: one multiply, so a lit-up shadow is
    never clipped before its colour is matched; skin lifted out of a shadow
    takes the lit skin's local brightness (before the plane) and colour
    (``lifted``). ``frames``: the target's glasses (``occluders``), left out of
    the colour match. Also returns how strongly the
    light lifts the source out of its shadow and the skin (``lifted``'s weights,
    for its noise), or None when nothing is lifted."""
    points, iod, features = grid.points, grid.iods[0], grid.features
    hull = mask.hull_mask(dst_local[shape.OUTLINE], grid.grid, grid.step)
    source = grid.source.astype(np.float32)
    light, shading = relight.light_maps(grid.source, grid.target, points, hull, iod)
    lit = source * channels_of(light)
    if opts.shadow_residue and float(light.max()) > np.exp(relight.RESIDUE_GATE[1]):
        residue = _shadow_residue(grid, lit, points, hull * (1.0 - features[0]), iod)
        light, lit = light * residue, lit * channels_of(residue)
    colour_gain = colour.match_colour(
        lit, grid.target, points[shape.OUTLINE], face_size / grid.step[0], opts.colour_sigma, frames
    )
    hue = colour.source_hue_factor(colour_gain, keep.colour, grid.inner)
    colour_gain = cv2.resize(colour_gain, grid.grid, interpolation=cv2.INTER_LINEAR)
    gain = scaled_channels(colour_gain * channels_of(light), hue)
    if opts.tone_curve:
        gain *= _tone_gain(grid, gain)  # in place: gain is this step's own
    skin = hull * (1.0 - np.maximum(*features))  # skin in both faces (outer, lifted)
    lifts = opts.lifted_colour or opts.lifted_noise or opts.lifted_level
    strength = lifted.lifted_strength(grid, light, skin, shading) if lifts else None
    if strength is not None and opts.lifted_level and lifted.levels_read(grid):  # before the plane
        gain = lifted.even_level(grid, gain, skin, hull)
    # Last, the target's light direction over the central face (what the eye
    # reads first). Both planes are read over the same pixels: the target's own
    # face, where its light was measured (the morphed points can sit 0.15 face
    # widths off it).
    core = mask.core_weights(own, grid.grid, grid.step)
    plane = relight.plane_gain(source * gain, grid.target, core, grid.own.mean(axis=0), iod)
    gain *= channels_of(plane)
    face = source * gain
    gain *= outer.outer_gain(face, grid.target, skin, grid.inner, points, iod)
    if strength is not None and opts.lifted_colour:
        gain = lifted.lit_colour(grid, gain, strength, skin)
    return gain, None if strength is None else (strength, skin)


def _shadow_residue(
    grid: Analysis, lit: np.ndarray, points: np.ndarray, skin: np.ndarray, iod: float
) -> np.ndarray:
    """``relight.shadow_residue_gain`` on the skin (``skin``: the hull without the
    new face's features), kept a little further in from the features and the
    hull's edge (a feature's own darkness is not a shadow's). Only called when the light map
    lifts something by the gate's full strength (about half the pairs): else it
    is all 1 or nearly, for ~1 ms a face."""
    grown = cv2.GaussianBlur(1.0 - skin, (0, 0), max(relight.FEATURE_GROW_IOD * iod, 0.5))
    skin = skin * (1.0 - np.minimum(grown * 2.0, 1.0))
    return relight.shadow_residue_gain(lit, grid.source, grid.target, points, skin, iod)


def _tone_gain(grid: Analysis, gain: np.ndarray) -> np.ndarray:
    """The target photo's tone curve (an overexposed photo flattens a face's
    bright relief), then its relief on the skin (a studio source's hot spots and
    deep shadows no stronger than the target's own): ``exposure``, read on the
    face as corrected by ``gain``."""
    face, iod = grid.source.astype(np.float32) * gain, grid.iods[0]
    curve = exposure.curve_gain(face, grid.target, grid.inner, exposure.SMOOTH_IOD * iod)
    skins = [grid.inner * (1.0 - f) for f in grid.features]
    return curve * channels_of(exposure.relief_gain(face * curve, grid.target, *skins, iod))
