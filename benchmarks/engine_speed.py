"""Per-stage speed of the face-swap engine, decode and encode included.

Reproduce the README table (one core, as production workers are sized):

    taskset -c 0 .venv/bin/python -m benchmarks.engine_speed --runs 15

Each request is timed as the worker runs it: ``swaps.imaging.decoding.decode_image``
on both uploads, the swap, ``swaps.imaging.encoding.encode_image`` in the target's format,
in a process whose heap keeps big freed buffers as the worker's does
(``swaps.heap``; ``--default-heap`` to leave glibc's defaults).
Cases (``--cases``):

- ``1mp``: the test fixtures upscaled to ~1 MP and JPEG-encoded in memory, so
  it always runs;
- ``large``: the 29 MP / 19 MP pair in ../shared/faces/large;
- ``multi``: a group photo (../shared/faces/multi/bald_guys.jpg) as target,
  one face swapped vs every face: prints the cost of each extra face;
- animated targets and saved faces have their own benchmarks:
  ``benchmarks/gif_speed.py`` and ``benchmarks/engine_modes.py``.

Cases whose photos are missing are skipped with a message. Every figure is the
median over ``--runs`` runs; ``spread`` is the 25th-75th percentile of the
total. On a machine shared with other jobs, wall times are inflated and noisy:
``--clock cpu`` times this thread's CPU instead (what one idle core would take,
less cache effects), which is the fairer figure there; say which one you quote.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Same decompression-bomb guard as the engine; must precede the cv2 import.
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(100_000_000))
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # also runnable as a plain script

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from swaps import engine, heap  # noqa: E402
from swaps.imaging import HARD_MAX_PIXELS  # noqa: E402
from swaps.imaging.decoding import DecodedImage, decode_image  # noqa: E402
from swaps.imaging.encoding import encode_image  # noqa: E402
from tests.images import ASTRONAUT, GRACE_HOPPER, load_fixture  # noqa: E402

STAGES = ("decode", "detect", "landmarks", "hands", "warp", "blend", "encode", "total")
ENGINE_STAGES = ("detect", "landmarks", "hands", "warp", "blend")
DEFAULT_SHARED = REPO.parent / "shared" / "faces"
NOTE = "Altered by the engine speed benchmark"
GROUP_PHOTO = "bald_guys.jpg"

Sample = dict[str, float]
SwapFn = Callable[[np.ndarray, np.ndarray], Any]  # (source, target) -> SwapResult


@dataclass(frozen=True)
class Row:
    case: str
    size: str
    median: Sample
    spread: tuple[float, float]  # 25th and 75th percentile of the total
    faces: int = 1  # target faces swapped per request


# --------------------------------------------------------------------------- inputs


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


def decode(data: bytes, name: str) -> DecodedImage:
    return decode_image(data, image=name, max_pixels=HARD_MAX_PIXELS)


# --------------------------------------------------------------------------- timing


def request(src: bytes, dst: bytes, swap_fn: SwapFn) -> tuple[Sample, str]:
    """One job as the worker runs it: decode both, swap, encode in the target's format."""
    begin = time.perf_counter()
    source, target = decode(src, "source"), decode(dst, "target")
    decoded = time.perf_counter()
    result = swap_fn(source.array, target.array)
    swapped = time.perf_counter()
    encode_image(result.image, target.format, note=NOTE)
    end = time.perf_counter()
    ms = {k: float(result.timings_ms.get(k, 0.0)) for k in ENGINE_STAGES}
    ms.update(
        decode=(decoded - begin) * 1e3, encode=(end - swapped) * 1e3, total=(end - begin) * 1e3
    )
    size = f"{source.width}x{source.height} -> {target.width}x{target.height}"
    return ms, size


def measure(case: str, src: bytes, dst: bytes, swap_fn: SwapFn, runs: int, faces: int = 1) -> Row:
    request(src, dst, swap_fn)  # warm caches and the allocator; not counted
    samples, size = [], ""
    for _ in range(runs):
        ms, size = request(src, dst, swap_fn)
        samples.append(ms)
    median = {k: statistics.median(s[k] for s in samples) for k in STAGES}
    totals = [s["total"] for s in samples]
    quartiles = statistics.quantiles(totals, n=4) if len(totals) > 1 else [totals[0]] * 3
    return Row(case, size, median, (quartiles[0], quartiles[2]), faces)


# --------------------------------------------------------------------------- cases


def case_pair(name: str, loader: Callable[[Path], tuple[bytes, bytes] | None]):
    def run(shared: Path, runs: int) -> list[Row] | str:
        data = loader(shared)
        if data is None:
            return f"{shared / 'large'} not found"
        return [measure(name, *data, engine.swap, runs)]

    return run


def swap_every_face(source: np.ndarray, target: np.ndarray) -> Any:
    """The first source face into every target face (``target_indices="all"``)."""
    swap_faces = getattr(engine, "swap_faces", None)
    if swap_faces is not None:
        return swap_faces(target, sources=[source], target_indices="all")
    return _swap_every_face_with_building_blocks(source, target)


def _swap_every_face_with_building_blocks(source: np.ndarray, target: np.ndarray) -> Any:
    # Until swaps.engine.swap_faces lands: what it will do, from the pieces.
    from swaps.engine import detect, pipeline

    timer = detect.Timer({k: 0.0 for k in ENGINE_STAGES})
    begin = time.perf_counter()
    src_points = detect.detect_faces(source, timer=timer)[0].landmarks
    faces = detect.detect_faces(target, timer=timer)
    image = target
    for face in faces:
        image = pipeline.swap_face(source, src_points, image, face.landmarks, timer=timer)
    timer.add("total", begin)
    swapped = [[0, i] for i in range(len(faces))]
    faces_info = {"source": 1, "target": len(faces), "swapped": swapped}
    return engine.SwapResult(image, faces_info, timer.ms)


def case_multi(shared: Path, runs: int) -> list[Row] | str:
    path = shared / "multi" / GROUP_PHOTO
    if not path.is_file():
        return f"{path} not found"
    src, dst = _upscaled_jpeg(ASTRONAUT), path.read_bytes()
    n = len(engine.detect_faces(decode(dst, "target").array))
    one = measure("multi: 1 face", src, dst, engine.swap, runs)
    every = measure(f"multi: all {n} faces", src, dst, swap_every_face, runs, faces=n)
    return [one, every]


def per_extra_face(rows: Sequence[Row]) -> str | None:
    """ms each face beyond the first adds, from the multi case's two rows."""
    if len(rows) != 2 or rows[1].faces < 2:
        return None
    n = rows[1].faces
    extra = (rows[1].median["total"] - rows[0].median["total"]) / (n - 1)
    return f"multi: {extra:.1f} ms per extra face ({n} faces)"


CASES: dict[str, Callable[[Path, int], list[Row] | str]] = {
    "1mp": case_pair("1mp", pair_1mp),
    "large": case_pair("large", pair_large),
    "multi": case_multi,
}


# --------------------------------------------------------------------------- report


def memory_mb() -> dict[str, float]:
    """This process's resident memory now (VmRSS) and at its peak (VmHWM), in MB."""
    try:
        with open("/proc/self/status") as status:
            lines = [line.split() for line in status if line.startswith(("VmRSS", "VmHWM"))]
    except OSError:  # not Linux
        return {}
    return {fields[0].rstrip(":"): int(fields[1]) / 1024 for fields in lines}


def table(rows: Sequence[Row]) -> str:
    lines = [
        "| case | source -> target | " + " | ".join(STAGES) + " | spread |",
        "|---|---|" + "---|" * (len(STAGES) + 1),
    ]
    for row in rows:
        cells = " | ".join(f"{row.median[k]:.1f}" for k in STAGES)
        spread = f"{row.spread[0]:.0f}-{row.spread[1]:.0f}"
        lines.append(f"| {row.case} | {row.size} | {cells} | {spread} |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per case (median)")
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--threads", type=int, default=1, help="cv2.setNumThreads (default 1)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    parser.add_argument(
        "--default-heap", action="store_true", help="skip the worker's heap tuning (swaps.heap)"
    )
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="shared/faces dir")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cv2.setNumThreads(args.threads)
    if not args.default_heap:
        heap.keep_freed_memory()  # as swaps.runner sets up the worker process
    if args.clock == "cpu":
        # The engine's stage timers read time.perf_counter; in this process only,
        # it reads this thread's CPU time instead.
        time.perf_counter = time.thread_time
    engine.warm_up()
    loaded = memory_mb()
    rows: list[Row] = []
    for name in args.cases:
        result = CASES[name](args.shared, args.runs)
        if isinstance(result, str):
            print(f"skipping {name!r}: {result}", file=sys.stderr)
            continue
        rows.extend(result)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(
        f"Median ms over {args.runs} runs ({args.clock} clock), "
        f"cv2 threads={args.threads}, CPUs allowed={cpus}:\n"
    )
    print(table(rows))
    multi = [r for r in rows if r.case.startswith("multi")]
    if (extra := per_extra_face(multi)) is not None:
        print(f"\n{extra}")
    if loaded:
        peak = memory_mb()["VmHWM"]
        print(f"\nMemory: {loaded['VmRSS']:.0f} MB RSS after warm_up, {peak:.0f} MB peak")
    cmd = " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    print(f"\nReproduce: taskset -c 0 .venv/bin/python -m benchmarks.engine_speed {cmd}".rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
