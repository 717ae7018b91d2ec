"""One swap's figures for the quality benchmark and tests: every measure of
``quality`` (and ``halves``, ``pasted``) on one output, and whether identity was transferred."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .detect import Face
from .identity import face_descriptor
from .pasted import fringe_pasted, hair_pasted, upper_patch
from .quality import (
    SAME_PERSON,
    background_changed,
    face_at,
    forehead_skin_lost,
    grain_ratio,
    half_mismatch,
    head_error,
    identity_distance,
    light_difference,
    relief_excess,
    seam_ratio,
    shade_difference,
    tone_difference,
)


@dataclass(frozen=True)
class SwapScores:
    """The benchmark's figures for one swap (see the module docstring)."""

    d_src: float  # descriptor distance, output face to source face
    d_tgt: float  # descriptor distance, output face to the original target face
    head_err: float
    background: float  # share of background pixels changed
    seam: float
    tone: float
    shade: float  # light direction change over the inner face, L* per inter-ocular distance
    light: float  # light pattern change (cast shadows, hot spots), L*
    light_face: float  # light over the whole face (68 points' hull): a diagnostic
    relief: float  # the output's inner-face skin L* range minus the target's: a diagnostic
    forehead: float  # share of the target's forehead skin that is not skin in the output
    hair: float  # share of the target's bare upper outer face that is hair-like in the output
    fringe: float  # share of the lower outline band coloured by neither face: a diagnostic
    grain: float  # the output's finest band over the target's on inner-face skin: a diagnostic
    # The halves' colour, texture, noise and blotch mismatch (``half_mismatch``): diagnostics.
    half_chroma: float
    half_texture: float
    half_noise: float
    half_blotch: float
    # The upper face's darkest patches below the target's, L* (``upper_patch``): a diagnostic.
    patch: float
    found: bool  # the output face was detected (else its landmarks sit in the target box)

    @property
    def transferred(self) -> bool:
        return self.d_src < SAME_PERSON and self.d_src < self.d_tgt


def score_swap(
    output: np.ndarray,
    target: np.ndarray,
    target_face: Face,
    source_descriptor: np.ndarray,
    target_descriptor: np.ndarray,
) -> SwapScores:
    """Score ``output`` (a swap into ``target_face`` of ``target``)."""
    out_face, found = face_at(output, target_face)
    desc = face_descriptor(output, out_face.landmarks)
    pts = target_face.landmarks
    between = half_mismatch(target, output, pts)
    return SwapScores(
        d_src=identity_distance(desc, source_descriptor),
        d_tgt=identity_distance(desc, target_descriptor),
        head_err=head_error(pts, out_face.landmarks),
        background=background_changed(target, output, pts),
        seam=seam_ratio(target, output, pts),
        tone=tone_difference(target, output, pts),
        shade=shade_difference(target, output, pts),
        light=light_difference(target, output, pts),
        light_face=light_difference(target, output, pts, whole_face=True),
        relief=relief_excess(target, output, pts),
        forehead=forehead_skin_lost(target, output, pts),
        hair=hair_pasted(target, output, pts, out_face.landmarks),
        fringe=fringe_pasted(target, output, pts),
        grain=grain_ratio(target, output, pts),
        half_chroma=between.chroma,
        half_texture=between.texture,
        half_noise=between.noise,
        half_blotch=between.blotch,
        patch=upper_patch(target, output, pts, out_face.landmarks),
        found=found,
    )
