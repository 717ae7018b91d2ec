"""The blend weights on the analysis grid: where the source face replaces the target.

The face's outline, its top faded, the forehead band's hair left out
(``skin``), eroded and feathered; then none on the hair reaching in at the
temples (``strands``), on the source's background at the jaw (``fringe``), on
the target's glasses frames (``occluders``) and the objects and hands in front
of its face (``in_front``, ``hands``), and, once the light is matched, on
upper-face skin too deep in the source's shadow to lift (``deep_shadow``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import cv2
import numpy as np

from . import deep_shadow, fringe, hands, in_front, mask, occluders, shape, skin, strands, trade_off
from .options import SwapOptions
from .regions import Analysis

# The source's glasses frames (``occluders``) above this weight are never taken
# for hair (``strands``): their arms reach the outline's edge at the temples.
GLASSES_KEPT = 0.05


def target_glasses(grid: Analysis, worn: Callable[[], np.ndarray | None]) -> np.ndarray | None:
    """The target's glasses frames on the analysis grid (``occluders``), or None;
    None too when the source face wears its own (``worn()``: found on the warped
    source, at the morphed points): two pairs on one face read worse than the
    source's alone."""
    frames = occluders.glasses_mask(grid.target, grid.own, grid.iods[1])
    if frames is None or worn() is not None:
        return None
    return frames


def in_front_of_face(
    grid: Analysis, frames: np.ndarray | None, held: list[np.ndarray], coloured: bool = True
) -> tuple[Analysis, np.ndarray | None]:
    """What is in front of the target's face (``in_front`` when ``coloured``, and
    the ``held`` hands, ``hands``: their points in crop pixels), added to
    ``frames``: both keep the target's pixels and stay out of the colour match.
    The light is read on the target with the objects painted over from round
    them (a dark bar on one cheek would read as a shadow to match)."""
    iod, shape_hw = grid.iods[1], grid.target.shape[:2]
    features = grid.features[1] > 0
    found = [in_front.occluder_mask(grid.target, grid.own, iod, features) if coloured else None]
    if held:
        step = np.asarray(grid.step)
        on_grid = [(p + 0.5) / step - 0.5 for p in held]
        found.append(hands.hand_mask(on_grid, grid.own, iod, shape_hw))
    found = [f for f in found if f is not None]
    if not found:
        return grid, frames
    objects = np.maximum.reduce(found)
    hidden = (objects > 0.05).astype(np.uint8)
    painted = cv2.inpaint(grid.target, hidden, max(1.0, 0.1 * iod), cv2.INPAINT_TELEA)
    kept = objects if frames is None else np.maximum(frames, objects)
    return dataclasses.replace(grid, target=painted), kept


def soft_mask(
    grid: Analysis,
    dst_local: np.ndarray,
    face_size: float,
    opts: SwapOptions,
    keep: trade_off.Blend,
    frames: np.ndarray | None,
    worn: Callable[[], np.ndarray | None],
) -> np.ndarray:
    """The blend weights on the analysis grid: the face outline with hair removed
    from the forehead band, its top faded (with ``match_light``), eroded and
    feathered, then none on the hair reaching in over the upper face
    (``strands``: after the feather, so a thin strand leaves a thin gap; the
    source's glasses, ``worn()``, are not hair), on the source's background at
    the lower outline (``fringe``) and along the target's glasses ``frames``."""
    hard = outline = mask.hull_mask(dst_local[shape.OUTLINE], grid.grid, grid.step)
    if opts.match_light:
        top = dst_local[shape.FOREHEAD]
        hard = hard * mask.forehead_fade(dst_local[shape.BROWS], top, grid.grid, grid.step)
    if opts.skin_forehead:
        band = (hard > 0) & (grid.inner < 0.5)
        weight = skin.band_weight(grid.source, grid.target, dst_local, band, grid.step)
        hard = hard * weight
    face_px = face_size / grid.step[0]
    soft = mask.feather(hard, keep.erode * face_px, keep.feather * face_px)
    if opts.drop_strands:
        glasses = worn()
        kept = None if glasses is None else glasses > GLASSES_KEPT
        soft = soft * strands.strand_weight(grid, outline > 0, kept)
    if opts.drop_fringe:
        soft = soft * fringe.fringe_weight(grid, outline > 0)
    if frames is not None:  # else the mask is left exactly as it was
        soft = soft * (1.0 - frames)
    return soft


def with_target_skin(
    soft: np.ndarray, grid: Analysis, gain: np.ndarray, strength: np.ndarray
) -> np.ndarray:
    """``soft`` (the blend weights on the analysis ``grid``) lowered where the
    upper face is too deep in the source's shadow to lift (``deep_shadow``)."""
    weight = deep_shadow.target_weight(grid, gain, strength)
    return soft if weight is None else soft * weight
