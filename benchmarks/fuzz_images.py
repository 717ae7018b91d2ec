"""The long fuzz run of the image front door (probe, decode, GIF frames).

    .venv/bin/python -m benchmarks.fuzz_images [--inputs 1000000] [--seed 1]

Mutates the seeds in tests/fixtures/fuzz (JPEG, progressive JPEG, PNG, WebP, an
animated GIF) at random (tests/fuzz_harness.mutate) and feeds each input through
tests/fuzz_harness.front_door. Only ImageInputError may come out; anything else is
counted as a crash, and the first few crashing inputs are written to --out for the
corpus. Prints inputs run, crashes, inputs per second.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import traceback
from pathlib import Path

os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(100_000_000))
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # also runnable as a plain script

import cv2  # noqa: E402

from tests.fuzz_harness import front_door, mutate  # noqa: E402

SEEDS = REPO / "tests" / "fixtures" / "fuzz"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--inputs", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, default=Path("/tmp/fuzz_crashes"))
    args = p.parse_args()
    cv2.setNumThreads(1)
    cv2.setLogLevel(0) if hasattr(cv2, "setLogLevel") else None
    seeds = [path.read_bytes() for path in sorted(SEEDS.iterdir())]
    rng = random.Random(args.seed)
    crashes, started = 0, time.perf_counter()
    for n in range(1, args.inputs + 1):
        data = mutate(rng.choice(seeds), rng)
        try:
            front_door(data)
        except Exception:  # anything but ImageInputError is a crash
            crashes += 1
            if crashes <= 20:
                args.out.mkdir(parents=True, exist_ok=True)
                (args.out / f"crash-{crashes}.bin").write_bytes(data)
                traceback.print_exc()
        if n % 100_000 == 0:
            rate = n / (time.perf_counter() - started)
            print(f"{n} inputs, {crashes} crashes, {rate:.0f}/s", flush=True)
    elapsed = time.perf_counter() - started
    print(
        f"done: {args.inputs} inputs in {elapsed:.0f} s ({args.inputs / elapsed:.0f}/s), "
        f"{crashes} crashes"
    )
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
