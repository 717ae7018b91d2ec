"""Animated GIF target speed: decode, swap every frame, encode (target: 50 frames of
480p in at most 2 s on one core).

    taskset -c 0 .venv/bin/python -m benchmarks.gif_speed --runs 5

The GIFs are built in code: a face tile drifting and zooming over a textured
640x480 background, 50 frames, written by Pillow (so later frames are stored
as changed rectangles, as real GIFs are). "fixtures": Grace Hopper's face as
the target, the astronaut as the source; "shared": Tom Cruise's face
(../shared/faces/multi) as the target, the largest face of bald_guys.jpg as the
source (skipped when the folder is absent). Prints medians of wall time and of
CPU time (process time: what the swap costs when the machine is shared) per
stage, in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(100_000_000))
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from swaps.animated import decode_animation, encode_animation  # noqa: E402
from swaps.engine import SwapOptions, warm_up  # noqa: E402
from swaps.engine.animation import swap_animation  # noqa: E402
from tests.animations import moving_face_frames, pillow_gif  # noqa: E402
from tests.images import ASTRONAUT, load_fixture  # noqa: E402

DEFAULT_SHARED = REPO.parent / "shared" / "faces"
STAGES = ("decode", "swap", "encode", "total")
ENGINE_STAGES = ("detect", "track", "landmarks", "hands", "warp", "blend")
FRAMES, DURATION_MS = 50, 80


def case_fixtures(_shared: Path) -> tuple[bytes, np.ndarray]:
    frames = moving_face_frames(count=FRAMES)
    return pillow_gif(frames, [DURATION_MS] * FRAMES), load_fixture(ASTRONAUT)


def case_shared(shared: Path) -> tuple[bytes, np.ndarray] | None:
    target = shared / "multi" / "Tom_Cruise_avp_2014_4.jpg"
    source = shared / "multi" / "bald_guys.jpg"
    if not (target.is_file() and source.is_file()):
        return None
    face = cv2.imread(str(target))  # 565x800, the face ~450 px wide
    frames = moving_face_frames(face, FRAMES, face_scale=0.4)
    return pillow_gif(frames, [DURATION_MS] * FRAMES), cv2.imread(str(source))


CASES = {"fixtures": case_fixtures, "shared": case_shared}


def run_once(data: bytes, source: np.ndarray, opts: SwapOptions) -> dict[str, float]:
    marks = [(time.perf_counter(), time.process_time())]
    decoded = decode_animation(data, image="target", max_pixels=100_000_000)
    marks.append((time.perf_counter(), time.process_time()))
    result = swap_animation(decoded.frames, decoded.durations_ms, sources=[source], options=opts)
    marks.append((time.perf_counter(), time.process_time()))
    encode_animation(result.frames, decoded.durations_ms, loop=decoded.loop, note="benchmark")
    marks.append((time.perf_counter(), time.process_time()))
    ms = {}
    for i, stage in enumerate(STAGES[:3]):
        ms[stage] = (marks[i + 1][0] - marks[i][0]) * 1e3
        ms[f"{stage} cpu"] = (marks[i + 1][1] - marks[i][1]) * 1e3
    ms["total"] = (marks[-1][0] - marks[0][0]) * 1e3
    ms["total cpu"] = (marks[-1][1] - marks[0][1]) * 1e3
    ms.update({k: result.timings_ms.get(k, 0.0) for k in ENGINE_STAGES})
    ms["frames swapped"] = result.faces["frames_swapped"]
    return ms


def bench(name: str, data: bytes, source: np.ndarray, runs: int, opts: SwapOptions) -> str:
    run_once(data, source, opts)  # warm-up, not counted
    samples = [run_once(data, source, opts) for _ in range(runs)]
    med = {k: statistics.median(s[k] for s in samples) for k in samples[0]}
    cells = [f"{med[s]:.0f} / {med[s + ' cpu']:.0f}" for s in STAGES]
    cells += [f"{med[s]:.0f}" for s in ENGINE_STAGES]
    swapped = f"{med['frames swapped']:.0f}/{FRAMES}"
    return f"| {name} | {len(data) // 1024} KB | {swapped} | " + " | ".join(cells) + " |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per case (median)")
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=list(CASES))
    parser.add_argument("--enhance", action="store_true", help="swap with enhance=True")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="shared/faces dir")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    warm_up()
    opts = SwapOptions(enhance=args.enhance)
    rows = []
    for name in args.cases:
        case = CASES[name](args.shared)
        if case is None:
            print(f"skipping {name!r}: {args.shared} not found", file=sys.stderr)
            continue
        rows.append(bench(name, *case, runs=args.runs, opts=opts))
    print(f"{FRAMES} frames of 640x480; median over {args.runs} runs; wall / CPU ms:\n")
    print(
        "| case | GIF | frames swapped | "
        + " | ".join(STAGES)
        + " | "
        + " | ".join(ENGINE_STAGES)
        + " |"
    )
    print("|---|---|---|" + "---|" * (len(STAGES) + len(ENGINE_STAGES)))
    print("\n".join(rows))
    cmd = " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    print(f"\nReproduce: taskset -c 0 .venv/bin/python -m benchmarks.gif_speed {cmd}".rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
