"""What C2PA Content Credentials cost per result: signing time and added bytes at 1 MP.

    .venv/bin/python -m benchmarks.c2pa_cost [--runs 15] [--side 1000]

Encodes a 1000x1000 photo-like picture (the astronaut fixture, resized) in each output
format as the worker does, then signs it with a fresh local identity as
swaps.content_credentials does; prints the median and 25th-75th percentile of the
signing time (ms, wall clock, one thread) and the bytes the manifest adds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # also runnable as a plain script

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from swaps.animated import encode_animation  # noqa: E402
from swaps.imaging import credentials  # noqa: E402
from swaps.imaging.encoding import encode_image  # noqa: E402

NOTE = "Altered by FaceSwap: this image contains an AI face swap."


def picture(side: int) -> np.ndarray:
    image = cv2.imread(str(REPO / "tests" / "fixtures" / "astronaut.jpg"))
    return cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA)


def encoded(image: np.ndarray, fmt: str) -> bytes:
    if fmt == "gif":
        return encode_animation([image], [0], loop=None, note=NOTE)
    return encode_image(image, fmt, note=NOTE)


def measure(
    signer: credentials.ContentCredentials, data: bytes, fmt: str, runs: int
) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        signer.sign(data, fmt)
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--side", type=int, default=1000)
    args = parser.parse_args()
    identity, _ = credentials.make_identity(organisation="FaceSwap")
    signer = credentials.ContentCredentials(identity, generator="FaceSwap", version="1", note=NOTE)
    image = picture(args.side)
    print(f"{args.side}x{args.side}, {args.runs} runs, c2pa {credentials.c2pa.sdk_version()}")
    print("| format | file bytes | added bytes | sign ms median | p25-p75 |")
    print("| --- | ---: | ---: | ---: | --- |")
    for fmt in ("jpeg", "png", "webp", "gif"):
        data = encoded(image, fmt)
        added = len(signer.sign(data, fmt)) - len(data)
        times = measure(signer, data, fmt, args.runs)
        q1, _, q3 = statistics.quantiles(times, n=4)
        median = statistics.median(times)
        print(f"| {fmt} | {len(data):,} | {added:,} | {median:.1f} | {q1:.1f}-{q3:.1f} |")


if __name__ == "__main__":
    main()
