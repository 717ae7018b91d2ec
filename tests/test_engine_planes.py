"""Products with a plane or per-channel factors (planes.py) are numpy's, bit for bit:
the realism steps rely on it to change speed and nothing else."""

from __future__ import annotations

import numpy as np

from swaps.engine.planes import channels_of, scaled_channels


def test_products_with_a_plane_and_with_factors_are_numpys_bit_for_bit():
    rng = np.random.default_rng(3)
    image = (rng.random((37, 29, 3)) * 300).astype(np.float32)
    plane = (rng.random((37, 29)) * 3).astype(np.float32)
    factors = np.array([0.8, 1.1, 1.7], np.float32)
    assert np.array_equal(image * channels_of(plane), image * plane[..., None])
    assert np.array_equal(scaled_channels(image, factors), image * factors)
    assert channels_of(plane, 2).shape == (37, 29, 2)
