"""What the realism steps (issue #9) cost a face: the swap with the default
options against the same swap with every realism step off.

    taskset -c 0 .venv/bin/python -m benchmarks.realism_cost --runs 41

Both variants run alternately in one process, on this thread's CPU clock, so a
machine that speeds up or slows down during the run moves both alike; the
process keeps freed buffers as the worker's does (``swaps.heap``). Cases:

- ``1mp``: the test fixtures upscaled to ~1 MP (always runs): one face;
- ``multi``: every face of ../shared/faces/multi/bald_guys.jpg (skipped if missing);
  the cost per face.

The realism steps are the options below (``REALISM_OFF``): the light map and what
follows it, the sharpness and grain match, the source's cleaning, the target's
occluders and the hair kept out of the face. Detection, landmarks, the warp,
the plain colour match and the blend are in both variants. Issue #9's budget is
about 10 ms a face at 1 MP.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.engine_speed import DEFAULT_SHARED, GROUP_PHOTO, _upscaled_jpeg, decode, pair_1mp
from swaps import engine, heap
from swaps.engine import SwapOptions
from tests.images import ASTRONAUT

REALISM_OFF = SwapOptions(
    skin_forehead=False,
    drop_strands=False,
    drop_fringe=False,
    match_sharpness=False,
    match_light=False,
    tone_curve=False,
    clean_source=False,
    keep_glasses=False,
    keep_occluders=False,
    shadow_residue=False,
    lifted_colour=False,
    lifted_noise=False,
    lifted_level=False,
    deep_shadow=False,
    match_grain=False,
)


def cpu_ms(target: np.ndarray, source: np.ndarray, opts: SwapOptions, every: bool) -> float:
    indices = "all" if every else None
    gc.collect()  # a collection left over from the last swap is not this one's
    begin = time.thread_time()
    engine.swap_faces(target, sources=[source], target_indices=indices, options=opts)
    return (time.thread_time() - begin) * 1e3


def compare(name: str, source: bytes, target: bytes, runs: int, every: bool = False) -> str:
    """CPU ms a swap takes with and without the realism steps, and their
    difference a face: the median of the paired differences, and the
    difference of the two variants' fastest quarters (25th percentiles: what a
    quiet machine gives; a busy one slows some runs, never speeds any up)."""
    src, dst = decode(source, "source").array, decode(target, "target").array
    faces = len(engine.detect_faces(dst)) if every else 1
    variants = [SwapOptions(), REALISM_OFF]
    for opts in variants:
        cpu_ms(dst, src, opts, every)  # warm-up, not counted
    on: list[float] = []
    off: list[float] = []
    for i in range(runs):
        order = variants if i % 2 == 0 else variants[::-1]  # ABBA: drift cancels
        got = {id(opts): cpu_ms(dst, src, opts, every) for opts in order}
        on.append(got[id(variants[0])])
        off.append(got[id(variants[1])])
    paired = statistics.median(a - b for a, b in zip(on, off, strict=True))
    quiet = statistics.quantiles(on, n=4)[0] - statistics.quantiles(off, n=4)[0]
    return (
        f"{name}: {faces} face(s), default {statistics.median(on):.1f} ms, realism off "
        f"{statistics.median(off):.1f} ms (medians); realism {paired / faces:.2f} ms a face "
        f"(median of paired differences), {quiet / faces:.2f} (fastest quarters)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=101)
    parser.add_argument("--cases", nargs="+", choices=("1mp", "multi"), default=["1mp", "multi"])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    args = parser.parse_args(argv)
    heap.keep_freed_memory()  # as swaps.runner sets up the worker process
    engine.warm_up()
    changed = [
        f.name
        for f in dataclasses.fields(SwapOptions)
        if getattr(REALISM_OFF, f.name) != getattr(SwapOptions(), f.name)
    ]
    print("realism steps off:", ", ".join(changed))
    if "1mp" in args.cases:
        print(compare("1mp", *pair_1mp(args.shared), args.runs))
    if "multi" in args.cases:
        group = args.shared / "multi" / GROUP_PHOTO
        if not group.is_file():
            print(f"multi: {group} not found, skipped")
        else:
            source = _upscaled_jpeg(ASTRONAUT)
            print(compare("multi", source, group.read_bytes(), max(args.runs // 4, 5), every=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
