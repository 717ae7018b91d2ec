"""A short fuzz run of the image front door: hostile bytes give ImageInputError only.

The long run (a million inputs) is benchmarks/fuzz_images.py; its seeds are these.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz_harness import front_door, mutate

SEEDS = sorted((Path(__file__).parent / "fixtures" / "fuzz").iterdir())


@pytest.mark.parametrize("seed", SEEDS, ids=[p.name for p in SEEDS])
def test_each_seed_passes_the_front_door(seed):
    front_door(seed.read_bytes())


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(SEEDS), salt=st.integers(0, 2**32 - 1))
def test_mutated_images_never_crash_the_front_door(seed, salt):
    front_door(mutate(seed.read_bytes(), random.Random(salt)))


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=4096))
def test_arbitrary_bytes_never_crash_the_front_door(data):
    front_door(data)


@settings(max_examples=200, deadline=None)
@given(
    prefix=st.sampled_from(
        [b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBP"]
    ),
    rest=st.binary(max_size=2048),
)
def test_bytes_behind_a_magic_number_never_crash_the_front_door(prefix, rest):
    front_door(prefix + rest)
