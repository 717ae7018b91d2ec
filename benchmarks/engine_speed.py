"""Per-stage speed of the face-swap engine, decode and encode included.

Reproduce the README table (one core, as production workers are sized):

    taskset -c 0 .venv/bin/python -m benchmarks.engine_speed --runs 15

Pairs: "1mp" is built from the test fixtures (upscaled to ~1 MP and JPEG
encoded in memory), so it always runs; "large" is the 29 MP / 19 MP pair in
../shared/faces/large and is skipped with a message when that folder is absent.
Prints the median of each stage over the runs, in milliseconds, as Markdown.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

# Same decompression-bomb guard as the engine; must precede the cv2 import.
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(100_000_000))
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # also runnable as a plain script

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from swaps.engine import swap, warm_up  # noqa: E402
from tests.images import ASTRONAUT, GRACE_HOPPER, load_fixture  # noqa: E402

STAGES = ("decode", "detect", "landmarks", "warp", "blend", "encode", "total")
DEFAULT_SHARED = REPO.parent / "shared" / "faces"


def _upscaled_jpeg(name: str, megapixels: float = 1.0) -> bytes:
    image = load_fixture(name)
    scale = (megapixels * 1e6 / (image.shape[0] * image.shape[1])) ** 0.5
    big = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    return cv2.imencode(".jpg", big, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()


def pair_1mp(_shared: Path) -> tuple[bytes, bytes]:
    return _upscaled_jpeg(ASTRONAUT), _upscaled_jpeg(GRACE_HOPPER)


def pair_large(shared: Path) -> tuple[bytes, bytes] | None:
    src, dst = shared / "large" / "selfie.jpeg", shared / "large" / "base.jpeg"
    if not (src.is_file() and dst.is_file()):
        return None
    return src.read_bytes(), dst.read_bytes()


PAIRS: dict[str, Callable[[Path], tuple[bytes, bytes] | None]] = {
    "1mp": pair_1mp,
    "large": pair_large,
}


def decode(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def run_once(src: bytes, dst: bytes) -> tuple[dict[str, float], tuple[int, ...], tuple[int, ...]]:
    """One request as the CLI does it: decode both, swap, encode the result as JPEG."""
    begin = time.perf_counter()
    source, target = decode(src), decode(dst)
    decoded = time.perf_counter()
    result = swap(source, target)
    swapped = time.perf_counter()
    cv2.imencode(".jpg", result.image)
    end = time.perf_counter()
    ms = {k: result.timings_ms[k] for k in ("detect", "landmarks", "warp", "blend")}
    ms.update(
        decode=(decoded - begin) * 1e3,
        encode=(end - swapped) * 1e3,
        total=(end - begin) * 1e3,
    )
    return ms, source.shape, target.shape


def bench(name: str, src: bytes, dst: bytes, runs: int) -> str:
    run_once(src, dst)  # warm caches and allocator; not counted
    samples = []
    for _ in range(runs):
        ms, s_shape, t_shape = run_once(src, dst)
        samples.append(ms)
    med = {k: statistics.median(s[k] for s in samples) for k in STAGES}
    size = f"{s_shape[1]}x{s_shape[0]} -> {t_shape[1]}x{t_shape[0]}"
    cells = " | ".join(f"{med[k]:.1f}" for k in STAGES)
    return f"| {name} | {size} | {cells} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per pair (median)")
    parser.add_argument("--pairs", nargs="+", choices=sorted(PAIRS), default=list(PAIRS))
    parser.add_argument("--threads", type=int, default=1, help="cv2.setNumThreads (default 1)")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="shared/faces dir")
    args = parser.parse_args(argv)
    cv2.setNumThreads(args.threads)
    warm_up()
    rows = []
    for name in args.pairs:
        data = PAIRS[name](args.shared)
        if data is None:
            print(f"skipping {name!r}: {args.shared / 'large'} not found", file=sys.stderr)
            continue
        rows.append(bench(name, *data, runs=args.runs))
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(f"Median ms over {args.runs} runs, cv2 threads={args.threads}, CPUs allowed={cpus}:\n")
    print("| pair | source -> target | " + " | ".join(STAGES) + " |")
    print("|---|---|" + "---|" * len(STAGES))
    print("\n".join(rows))
    cmd = " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    print(f"\nReproduce: taskset -c 0 .venv/bin/python -m benchmarks.engine_speed {cmd}".rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
