"""Command line: ``python -m swaps.engine SRC TARGET OUT [--source-face N] [--target-face N]``.

Prints the swap facts as one JSON object on the last stdout line. Exit codes:
0 success, 2 engine error (``code: message`` on stderr), 1 I/O error.
Model loading happens before the clock starts (as in a warmed-up worker), so
``timings_ms.total`` is the per-request cost: decode + swap + encode.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from .detect import Timer
from .errors import EngineError
from .models import warm_up
from .pipeline import swap

EXIT_IO = 1
EXIT_ENGINE = 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m swaps.engine", description=__doc__.split("\n")[0])
    p.add_argument("source", type=Path, help="image whose face is used")
    p.add_argument("target", type=Path, help="image whose face is replaced")
    p.add_argument("out", type=Path, help="output image; the format follows the extension")
    p.add_argument("--source-face", type=int, default=0, help="source face index, largest first")
    p.add_argument("--target-face", type=int, default=0, help="target face index, largest first")
    p.add_argument("--threads", type=int, default=None, help="OpenCV threads (default: OpenCV's)")
    return p


def decode(data: bytes, name: str) -> np.ndarray:
    """Decode image bytes to BGR; IMREAD_COLOR also applies EXIF orientation."""
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise EngineError(
            "invalid_image_format", f"the {name} image could not be decoded", {"image": name}
        )
    return image


def encode(image: np.ndarray, path: Path) -> bytes:
    ok, buf = cv2.imencode(path.suffix, image)
    if not ok:
        raise EngineError("unsupported_output_format", f"could not encode {path.suffix}")
    return buf.tobytes()


def run(args: argparse.Namespace) -> dict:
    if not cv2.haveImageWriter(str(args.out)):
        raise EngineError(
            "unsupported_output_format",
            f"cannot write images with the extension {args.out.suffix!r}",
            {"path": str(args.out)},
        )
    src_bytes, dst_bytes = args.source.read_bytes(), args.target.read_bytes()
    timer = Timer()
    begin = time.perf_counter()
    source = decode(src_bytes, "source")
    target = decode(dst_bytes, "target")
    start = timer.add("decode", begin)
    result = swap(source, target, source_face=args.source_face, target_face=args.target_face)
    start = time.perf_counter()
    args.out.write_bytes(encode(result.image, args.out))
    timer.add("encode", start)
    for stage in ("detect", "landmarks", "warp", "blend"):
        timer.ms[stage] = result.timings_ms.get(stage, 0.0)
    timer.add("total", begin)
    order = ("decode", "detect", "landmarks", "warp", "blend", "encode", "total")
    timings = {k: round(timer.ms[k], 2) for k in order}
    return {"faces": result.faces, "timings_ms": timings}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.threads is not None:
        cv2.setNumThreads(args.threads)
    try:
        warm_up()
        facts = run(args)
    except EngineError as exc:
        print(f"{exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_ENGINE
    except OSError as exc:
        print(f"io_error: {exc}", file=sys.stderr)
        return EXIT_IO
    print(json.dumps(facts))
    return 0
