"""The engine's options: every step's switch and tuning knob, with its default."""

from __future__ import annotations

from dataclasses import dataclass

from . import trade_off
from .detect import WORK_PIXELS


@dataclass(frozen=True)
class SwapOptions:
    """Tuning knobs; lengths are fractions of the face size (~ the face width)."""

    # 0..1: how much of the source face survives beyond its features (shape,
    # skin colour, outline); 0 = fit the target's face exactly. See trade_off.py.
    likeness: float = trade_off.DEFAULT_LIKENESS
    forehead: float = 0.18  # how far above the brows the swapped region reaches
    erode: float | None = None  # how far inside the outline the seam sits (else likeness')
    feather: float | None = None  # sigma of the seam's soft edge (else erode / 2.5)
    colour_sigma: float = 0.15  # detail finer than this keeps the source's colour
    # The face's size on the grid for masks, light maps, colour and occluders (160
    # until 2026-12-07: 128 is ~2.5 ms a face cheaper at 1 MP for a worst shade of
    # 4.80 against 4.61; the sharpness match keeps its own 160, detail.FACE_PX).
    analysis_face_px: int = 128
    prefilter_below: float = 0.8  # shrink the source first if it must shrink more
    source_shape: float | None = None  # 0..1 of the source's proportions (else likeness')
    source_colour: float | None = None  # 0..1 of the source's skin colour (else likeness')
    skin_forehead: bool = True  # drop hair (either image's) from the forehead band
    drop_strands: bool = True  # drop hair (either image's) reaching in at the temples (strands.py)
    drop_fringe: bool = True  # drop the source's background at the lower outline (fringe.py)
    match_sharpness: bool = True  # soften a source sharper than the target photo
    match_light: bool = True  # the target's side light on the face, not the source's (relight.py)
    tone_curve: bool = True  # half the target's flatter tone curve (exposure.py; with match_light)
    detect_pixels: int = WORK_PIXELS  # the fine detection pass's pixel budget
    clean_source: bool = True  # clean an enlarged source's noise first (texture.py)
    keep_glasses: bool = True  # the target's glasses frames stay (occluders.py)
    keep_occluders: bool = True  # objects in front of the target's face stay (in_front.py)
    # The target's hands in front of its face stay (hands.py). Off unless asked: its
    # palm detector costs ~8.5 ms a face, a realism budget of its own.
    keep_hands: bool = False
    shadow_residue: bool = True  # lift what the light map left of a strong shadow
    lifted_colour: bool = True  # a lifted shadow's skin takes the lit skin's colour (lifted.py)
    lifted_noise: bool = True  # ... and the lit skin's level of noise (lifted.py)
    lifted_level: bool = True  # ... and the lit skin's local brightness (lifted.py)
    deep_shadow: bool = True  # the target's skin where the upper face is too dark to lift
    match_grain: bool = True  # an enlarged face gets grain at the target's level (texture.py)
    enhance: bool = False  # denoise, sharpen and re-grain the swapped face (enhance.py)
