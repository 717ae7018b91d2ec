"""The target's skin colour on the outer face: cheeks, jaw and temples near the outline.

The light steps (``relight``, ``colour``, ``exposure``, ``relight.plane_gain``)
match the face where its light is read: the inner face. Towards the outline
the source keeps its own light, and a face lit from the other side, or evenly
lit in a head half in shadow, shows there as a pale oval or a grey rim.

So, last, the outer face (outside the inner face) takes part of the target's
local skin colour: each channel's mean over skin only, the features of both
faces left out (normalised convolution), at a finer scale than the colour
match's. Only part of it (``SHARE``), not on the inner face, and on the
forehead band above the brows only ``BAND_SHARE`` of that: the recogniser reads
the outline's shading as identity (docs/benchmarks.md, "Engine quality": at
full share, or reaching into the inner face, held-out d_src rose past its
bound). Without the band a source's forehead lit differently kept its own
light as a pale or grey stripe above the brows (the shared pair, base into
selfie); at the full outer share there, held-out d_src 0.395 -> 0.398, at half
of it unchanged.
"""

from __future__ import annotations

import cv2
import numpy as np

from . import colour
from .planes import channels_of

# Local means are read at this share of the inter-ocular distance.
SIGMA_IOD = 0.12
# How much of the target's local colour the outer face takes (log gain).
SHARE = 0.7
# The share rises from 0 to full over this share of the inter-ocular distance,
# centred on the brows' line, so the forehead band is left alone.
BROW_RAMP_IOD = 0.2
# The gain is made on a grid with this many pixels between the eyes.
WORK_IOD_PX = 32.0
# Share of SHARE on the forehead band, above the brows (the band also has its own
# hair test, ``skin``).
BAND_SHARE = 0.5


def outer_gain(
    face: np.ndarray,
    target: np.ndarray,
    skin: np.ndarray,
    inner: np.ndarray,
    points: np.ndarray,
    iod: float,
) -> np.ndarray:
    """(h, w, 3) float32 gain giving the outer face of ``face`` (the corrected
    source, float BGR) part of ``target``'s local skin colour.

    ``skin``: weights where both are read (the face's hull without the
    features), ``inner``: the inner face (0..1), ``points``: the face's 68
    points, all on one grid with ``iod`` pixels between the eyes.
    """
    h, w = inner.shape
    # The gain is smooth: it is made on a grid of WORK_IOD_PX between the eyes
    # (a few cells per sigma) and upsampled (on the analysis grid itself the
    # step cost 3.5 ms a face at 1 MP, here 1.3).
    scale = min(1.0, WORK_IOD_PX / max(iod, 1e-6))
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    sx, sy = size[0] / w, size[1] / h
    small = [
        cv2.resize(im, size, interpolation=cv2.INTER_AREA)
        for im in (np.minimum(face, 255), target.astype(np.float32), skin, inner)
    ]
    face_s, target_s, skin_s, inner_s = small
    sigma = max(SIGMA_IOD * iod * sx, 0.5)
    # The colour match's gain (target over face, local means over ``skin``), finer.
    gain = colour.colour_gain(face_s, target_s, skin_s, sigma)
    outside = 1.0 - cv2.GaussianBlur(inner_s, (0, 0), sigma)
    local = (points + 0.5) * (sx, sy) - 0.5
    below = below_brows(local, inner_s.shape, iod * sx)
    share = SHARE * outside * (BAND_SHARE + (1.0 - BAND_SHARE) * below)
    change = np.log(gain) * channels_of(share)
    return np.exp(cv2.resize(change, (w, h), interpolation=cv2.INTER_LINEAR)).astype(
        np.float32, copy=False
    )


def below_brows(points: np.ndarray, shape_hw: tuple[int, ...], iod: float) -> np.ndarray:
    """(h, w) 0..1: 1 below the brows' line, 0 above it, along the face's own
    up-down axis (brows to chin), so a tilted head is followed."""
    brows = points[17:27].mean(axis=0)
    down = points[8] - brows
    down = down / max(float(np.linalg.norm(down)), 1e-6)
    # A row and a column, broadcast: the same sums as on full coordinate grids.
    xs = np.arange(shape_hw[1], dtype=np.float32)[None, :]
    ys = np.arange(shape_hw[0], dtype=np.float32)[:, None]
    along = (xs - brows[0]) * down[0] + (ys - brows[1]) * down[1]
    return np.clip(along / max(BROW_RAMP_IOD * iod, 1.0) + 0.5, 0.0, 1.0).astype(
        np.float32, copy=False
    )
