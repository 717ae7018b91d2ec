"""Command line for the engine's swap modes and saved faces.

    python -m swaps.engine SRC TARGET OUT [--source-face 0,1] [--target-face all]
    python -m swaps.engine SRC TARGET OUT [--likeness 0.5] [--enhance] [--keep-hands]
    python -m swaps.engine TARGET OUT --source A.jpg --source B.jpg [--identity FACE]
    python -m swaps.engine TARGET OUT --self            # the target's faces trade places
    python -m swaps.engine SRC TARGET OUT --reference WHO.jpg
    python -m swaps.engine save-face IMAGE FACE         # a saved face for --identity

Prints the facts as one JSON object on the last stdout line. Exit codes:
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
from typing import Any

import cv2
import numpy as np

from . import models
from .detect import Timer
from .errors import EngineError
from .identity import FaceIdentity, face_identity
from .models import warm_up
from .multi import swap_faces
from .options import SwapOptions
from .select import parse_indices
from .trade_off import DEFAULT_LIKENESS

EXIT_IO = 1
EXIT_ENGINE = 2
SAVE_FACE = "save-face"
# Pipeline order of the timings; "identity" is save-face's, "descriptor" a reference's.
STAGES = (
    "decode", "identity", "detect", "landmarks", "descriptor", "hands", "warp", "blend", "encode"
)  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m swaps.engine",
        usage="%(prog)s [SRC] TARGET OUT [options]\n       %(prog)s save-face IMAGE OUT",
        description="Swap faces; save-face writes a saved face for --identity.",
    )
    p.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="[SRC] TARGET OUT: the source (optional with --source, --identity or --self), "
        "the target, the output (its extension sets the format)",
    )
    add = p.add_argument
    add("--source", action="append", type=Path, default=[], help="a(nother) source photo")
    add("--identity", action="append", type=Path, default=[], help="a saved face (save-face)")
    add("--self", dest="self_swap", action="store_true", help="the target's faces trade places")
    add("--source-face", default=None, help="source face indices: 0, 0,1 or all")
    add("--target-face", default=None, help="target face indices: 0, 1,0 or all")
    add("--reference", type=Path, default=None, help="change the target face most like this")
    add(
        "--likeness",
        type=float,
        default=DEFAULT_LIKENESS,
        help="0..1: how much of the source face is kept beyond its features "
        f"(default {DEFAULT_LIKENESS:g}; lower fits the target photo more closely)",
    )
    add("--enhance", action="store_true", help="sharpen and restore the swapped face's detail")
    add(
        "--keep-hands",
        action="store_true",
        help="a hand found in front of the target's face stays on the new face (MediaPipe's "
        "palm and hand models, swaps/engine/hands.py; ~8.5 ms more a face)",
    )
    add("--threads", type=int, default=None, help="OpenCV threads (default: OpenCV's)")
    return p


def _save_face_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=f"python -m swaps.engine {SAVE_FACE}",
        description="Save the one face of a photo for later swaps (--identity).",
    )
    p.add_argument("image", type=Path, help="a photo showing exactly one face")
    p.add_argument("out", type=Path, help="where to write the saved face")
    p.add_argument("--threads", type=int, default=None, help="OpenCV threads (default: OpenCV's)")
    return p


def _split_paths(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """[SRC] TARGET OUT -> args.sources, args.target, args.out; checks the mode."""
    if len(args.paths) not in (2, 3):
        parser.error("expected [SRC] TARGET OUT")
    *src, args.target, args.out = args.paths
    args.sources = src + args.source
    has_source = bool(args.sources or args.identity)
    if args.self_swap and has_source:
        parser.error("--self takes no source image or identity")
    if not args.self_swap and not has_source:
        parser.error("give a source (SRC, --source or --identity), or --self")


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


def _check_writable(path: Path) -> None:
    if not cv2.haveImageWriter(str(path)):
        raise EngineError(
            "unsupported_output_format",
            f"cannot write images with the extension {path.suffix!r}",
            {"path": str(path)},
        )


def _source_names(count: int) -> list[str]:
    return ["source"] if count == 1 else [f"source_{i}" for i in range(1, count + 1)]


def _inputs(args: argparse.Namespace) -> dict[str, Any]:
    """Every input read from disk (before the clock starts, as uploads would be)."""
    return {
        "target": args.target.read_bytes(),
        "sources": [p.read_bytes() for p in args.sources],
        "identities": [p.read_bytes() for p in args.identity],
        "reference": args.reference.read_bytes() if args.reference else None,
    }


def _decoded(raw: dict[str, Any]) -> dict[str, Any]:
    names = _source_names(len(raw["sources"]))
    return {
        "target_bgr": decode(raw["target"], "target"),
        "sources": [decode(d, n) for d, n in zip(raw["sources"], names, strict=True)],
        "identities": [FaceIdentity.from_bytes(d) for d in raw["identities"]],
        "reference_bgr": decode(raw["reference"], "reference") if raw["reference"] else None,
    }


def run(args: argparse.Namespace) -> dict:
    _check_writable(args.out)
    raw = _inputs(args)
    if raw["reference"]:
        models.face_encoder()  # loading costs ~0.3 s: a worker has it loaded already
    timer = Timer()
    begin = time.perf_counter()
    inputs = _decoded(raw)
    timer.add("decode", begin)
    result = swap_faces(
        **inputs,
        source_indices=parse_indices(args.source_face, "source"),
        target_indices=parse_indices(args.target_face, "target"),
        options=SwapOptions(
            likeness=args.likeness, enhance=args.enhance, keep_hands=args.keep_hands
        ),
    )
    start = time.perf_counter()
    args.out.write_bytes(encode(result.image, args.out))
    timer.add("encode", start)
    timer.ms.update({k: v for k, v in result.timings_ms.items() if k != "total"})
    timer.add("total", begin)
    return {"faces": result.faces, "timings_ms": _ordered(timer.ms)}


def _ordered(ms: dict[str, float]) -> dict[str, float]:
    """Stages in pipeline order (only those that ran), then any others."""
    keys = [k for k in (*STAGES, "total") if k in ms]
    keys += sorted(set(ms) - set(keys))
    return {k: round(ms[k], 2) for k in keys}


def save_face(args: argparse.Namespace) -> dict:
    data = args.image.read_bytes()
    models.face_encoder()  # loading costs ~0.3 s: a worker has it loaded already
    timer = Timer()
    begin = time.perf_counter()
    image = decode(data, "image")
    start = timer.add("decode", begin)
    identity = face_identity(image)
    start = timer.add("identity", start)
    saved = identity.to_bytes()
    timer.add("encode", start)
    args.out.write_bytes(saved)
    timer.add("total", begin)
    crop_hw = identity.crop.shape[:2]
    facts = {"bytes": len(saved), "crop": [crop_hw[1], crop_hw[0]]}
    return {"identity": facts, "timings_ms": _ordered(timer.ms)}


def _parse(argv: list[str]) -> tuple[argparse.Namespace, Any]:
    if argv[:1] == [SAVE_FACE]:
        return _save_face_parser().parse_args(argv[1:]), save_face
    parser = _parser()
    args = parser.parse_args(argv)
    _split_paths(parser, args)
    return args, run


def main(argv: list[str] | None = None) -> int:
    args, command = _parse(sys.argv[1:] if argv is None else argv)
    if args.threads is not None:
        cv2.setNumThreads(args.threads)
    try:
        warm_up()
        facts = command(args)
    except EngineError as exc:
        print(f"{exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_ENGINE
    except OSError as exc:
        print(f"io_error: {exc}", file=sys.stderr)
        return EXIT_IO
    print(json.dumps(facts))
    return 0
