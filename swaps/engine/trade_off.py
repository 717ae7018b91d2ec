"""The likeness trade-off: one number for how much of the source face survives.

A swap pulls two ways. The more of the source's face shape, skin colour and
outline is kept, the more the result looks like the source person; the more
of the target's is kept, the better the new face sits in the target photo
(head position, skin tone and light, no seams). ``likeness`` (0..1) sets the
three things that decide it together:

- shape: how far the target's 68-point layout moves towards the source's
  proportions (``shape.morph_towards``). The move never shifts, scales or
  turns the head as a whole, the jaw line only ever moves outwards (so the
  target's own jaw never shows around a narrower face), and no point moves
  more than ``MAX_MOVE``;
- colour: the share of the source's own skin hue kept (0 = the target's);
  brightness and light always come from the target (``relight``, ``colour``);
- mask: where the blend ends and how it fades. The mask is the face outline
  eroded, then blurred with a Gaussian of 1/2.5 of the erosion, so the fade
  is complete at the outline (no step where the mask is cut off); higher
  likeness erodes less and fades faster, carrying the source's face closer to
  its outline.

likeness 0 is the target's geometry with full colour transfer and a well
eroded mask (the engine before this option); 1 is the source's proportions
with a quarter of its skin hue and the mask closer to the outline. The default,
0.85, meets the targets of ``benchmarks/engine_quality.py`` (see the README); at 0.7
the held-out median d_src was 0.405.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import EngineError

DEFAULT_LIKENESS = 0.85
# Settings at likeness 0 and at likeness 1; in between the shape and the mask
# are interpolated linearly, the colour as the 6th power (a tone that differs
# from the neck and ears shows more than anything else, and adds next to no
# identity: at likeness 0.85 a hue share of 0.154 (the cube) or 0.086 gave the
# same held-out d_src, but a worst tone of 8.0 against 6.4 on the tune pairs).
COLOUR_AT_ONE = 0.25
COLOUR_POWER = 6
ERODE_AT_ZERO, ERODE_AT_ONE = 0.04, 0.02
# No landmark moves further than this (face units) however different the
# shapes: beyond it they differ by pose or expression more than by identity.
MAX_MOVE = 0.15
# Erosion over feather sigma: the blur's tail is cut below 1% at the outline.
ERODE_PER_SIGMA = 2.5


@dataclass(frozen=True)
class Blend:
    """What a swap keeps of the source face (lengths in face units)."""

    shape: float  # 0..1 of the source's proportions
    colour: float  # 0..1 of the source's own skin colour
    erode: float  # how far inside the outline the mask is eroded before blurring
    feather: float  # Gaussian sigma of the mask's soft edge


def _unit(value: float, name: str) -> float:
    if not 0.0 <= value <= 1.0:
        raise EngineError("invalid_option", f"{name} must be between 0 and 1", {name: value})
    return float(value)


def resolve(
    likeness: float,
    shape: float | None = None,
    colour: float | None = None,
    erode: float | None = None,
    feather: float | None = None,
) -> Blend:
    """The settings ``likeness`` stands for; an explicit value overrides its part."""
    level = _unit(likeness, "likeness")
    if erode is None:
        erode = ERODE_AT_ZERO + (ERODE_AT_ONE - ERODE_AT_ZERO) * level
    if colour is None:
        colour = COLOUR_AT_ONE * level**COLOUR_POWER
    return Blend(
        shape=level if shape is None else _unit(shape, "source_shape"),
        colour=_unit(colour, "source_colour"),
        erode=erode,
        feather=erode / ERODE_PER_SIGMA if feather is None else feather,
    )
