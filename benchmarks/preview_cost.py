"""CPU of a result's preview for the job page: from the encoded result (decode, scale,
encode) against from the result's pixels (scale, encode), as the worker makes it now.

    taskset -c 0 .venv/bin/python -m benchmarks.preview_cost [--runs 15]

The astronaut fixture scaled to 1 and 12 MP, encoded as JPEG and PNG as results are;
median CPU time (process_time) of --runs previews each, OpenCV on one thread.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.engine_modes import to_megapixels  # noqa: E402
from swaps.imaging.encoding import encode_image  # noqa: E402
from swaps.imaging.previews import make_preview, preview_of_pixels  # noqa: E402
from tests.images import ASTRONAUT, load_fixture  # noqa: E402

RESULT_PREVIEW_SIDE = 1600  # swaps.results.RESULT_PREVIEW_SIDE (that module needs Django)


def cpu_ms(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.process_time()
        work()
        times.append((time.process_time() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    side = RESULT_PREVIEW_SIDE
    print(f"{'result':<22}{'from the file ms':>18}{'from the pixels ms':>20}")
    for megapixels in (1, 12):
        pixels = to_megapixels(load_fixture(ASTRONAUT), megapixels)
        for fmt in ("jpeg", "png"):
            data = encode_image(pixels, fmt, note="benchmark")
            from_file = cpu_ms(partial(make_preview, data, max_side=side), args.runs)
            from_pixels = cpu_ms(partial(preview_of_pixels, pixels, max_side=side), args.runs)
            name = f"{pixels.shape[1]}x{pixels.shape[0]} {fmt}"
            print(f"{name:<22}{from_file:>18.1f}{from_pixels:>20.1f}")


if __name__ == "__main__":
    main()
