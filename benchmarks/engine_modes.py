"""Cost of the engine's multi-face modes: per extra face, and a saved face vs a photo.

    taskset -c 0 .venv/bin/python -m benchmarks.engine_modes --runs 15

"extra face": a ~1 MP photo with four faces (the fixture mosaic, upscaled);
the swap into k of them for k = 1..4 (the smallest first, so each extra
face is a larger one: ~170, 210, 260 px; a pessimistic figure), each face's
cost = the slope of the median totals.

"saved face": one request (decode, swap, JPEG encode) into a ~1 MP target,
the source a fresh JPEG photo (~1 MP, and ~12 MP as a phone takes them) or
its saved face (FaceIdentity bytes). Medians over the runs, in ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(100_000_000))
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # also runnable as a plain script

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from swaps.engine import FaceIdentity, face_identity, swap_faces, warm_up  # noqa: E402
from tests.images import ASTRONAUT, FOUR_FACES, GRACE_HOPPER, load_fixture, tiled_faces  # noqa: E402


def to_megapixels(image: np.ndarray, megapixels: float = 1.0) -> np.ndarray:
    scale = (megapixels * 1e6 / (image.shape[0] * image.shape[1])) ** 0.5
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)


def jpeg(image: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()


def decode(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def medians(action: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall and CPU (this process) milliseconds of ``action``.

    With OpenCV on one thread the CPU time is the work itself; it barely moves
    when other processes share the cores, while wall time does.
    """
    action()  # warm caches and allocator; not counted
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        action()
        cpus.append((time.process_time() - cpu) * 1e3)
        walls.append((time.perf_counter() - wall) * 1e3)
    return statistics.median(walls), statistics.median(cpus)


def per_extra_face(runs: int) -> list[str]:
    target = to_megapixels(tiled_faces(FOUR_FACES)[0])
    source = load_fixture(ASTRONAUT)
    # Faces 3, then 3 and 2, ...: the smallest face is always among them, so
    # detection does the same work for every k (it may stop after the faces used).
    rows = [
        medians(
            lambda k=k: swap_faces(target, sources=[source], target_indices=range(3, 3 - k, -1)),
            runs,
        )
        for k in range(1, 5)
    ]
    ks = np.arange(1, 5)
    slopes = [np.polyfit(ks, column, 1)[0] for column in np.array(rows).T]
    cells = " | ".join(f"{w:.1f} / {c:.1f}" for w, c in rows)
    return [
        f"Swap into k of 4 faces (3, then 3 and 2, ...), {target.shape[1]}x{target.shape[0]} "
        "target, swap_faces only; wall / CPU ms:\n",
        "| k=1 | k=2 | k=3 | k=4 | per extra face |",
        "|---|---|---|---|---|",
        f"| {cells} | {slopes[0]:.1f} / {slopes[1]:.1f} |",
    ]


def saved_vs_photo(runs: int, source_mp: float) -> str:
    """One row: a fresh ``source_mp`` MP source photo vs its saved face, ~1 MP target."""
    src_bytes = jpeg(to_megapixels(load_fixture(GRACE_HOPPER), source_mp))
    dst_bytes = jpeg(to_megapixels(load_fixture(ASTRONAUT)))
    saved = face_identity(decode(src_bytes)).to_bytes()

    def fresh() -> None:
        result = swap_faces(decode(dst_bytes), sources=[decode(src_bytes)])
        cv2.imencode(".jpg", result.image)

    def from_saved() -> None:
        result = swap_faces(decode(dst_bytes), identities=[FaceIdentity.from_bytes(saved)])
        cv2.imencode(".jpg", result.image)

    photo, face = medians(fresh, runs), medians(from_saved, runs)
    gain = [100 * (1 - f / p) for p, f in zip(photo, face, strict=True)]
    return (
        f"| {source_mp:g} MP | {len(saved)} | {photo[0]:.1f} / {photo[1]:.1f} "
        f"| {face[0]:.1f} / {face[1]:.1f} | {gain[0]:.0f}% / {gain[1]:.0f}% |"
    )


def saved_table(runs: int) -> list[str]:
    return [
        "\nOne request (decode, swap, JPEG encode), ~1 MP target; wall / CPU ms:\n",
        "| source photo | saved face bytes | fresh source photo | saved face | saved faster by |",
        "|---|---|---|---|---|",
        saved_vs_photo(runs, 1.0),
        saved_vs_photo(runs, 12.0),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per case (median)")
    parser.add_argument("--threads", type=int, default=1, help="cv2.setNumThreads (default 1)")
    args = parser.parse_args(argv)
    cv2.setNumThreads(args.threads)
    warm_up()
    lines = per_extra_face(args.runs) + saved_table(args.runs)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(f"Median ms over {args.runs} runs, cv2 threads={args.threads}, CPUs allowed={cpus}\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
