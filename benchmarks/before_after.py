"""A before/after picture of the light and skin matching, from the shared photos.

    .venv/bin/python -m benchmarks.before_after [--out /tmp/before_after.png]

Swaps ../shared/faces/large (selfie.jpeg into base.jpeg, and the reverse) with
``match_light`` off (the engine before the relight step) and on, and writes
one PNG per direction as rows: target | source | before | after, each a crop
around the target face. The photos are read from ../shared, never committed;
``make before-after`` runs it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(100_000_000))
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # also runnable as a plain script

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from swaps.engine import SwapOptions, detect_faces, swap, warm_up  # noqa: E402
from swaps.engine import quality as q  # noqa: E402

LARGE = REPO.parent / "shared" / "faces" / "large"
TILE = 420


def face_crop(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    lo, hi = landmarks.min(axis=0), landmarks.max(axis=0)
    half = 0.75 * float((hi - lo).max())
    cx, cy = (lo + hi) / 2
    x0, y0 = max(0, int(cx - half)), max(0, int(cy - half * 1.1))
    crop = image[y0 : int(cy + half * 0.9), x0 : int(cx + half)]
    return cv2.resize(crop, (TILE, TILE), interpolation=cv2.INTER_AREA)


def row(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, str]:
    marks = detect_faces(target)[0].landmarks
    src_marks = detect_faces(source)[0].landmarks
    before = swap(source, target, options=SwapOptions(match_light=False)).image
    after = swap(source, target).image
    figures = []
    for name, out in (("before", before), ("after", after)):
        figures.append(
            f"{name}: shade {q.shade_difference(target, out, marks):.1f}, "
            f"light {q.light_difference(target, out, marks):.2f} "
            f"(whole face {q.light_difference(target, out, marks, whole_face=True):.2f}), "
            f"tone {q.tone_difference(target, out, marks):.1f}"
        )
    tiles = [
        face_crop(target, marks),
        face_crop(source, src_marks),
        face_crop(before, marks),
        face_crop(after, marks),
    ]
    return np.hstack(tiles), "; ".join(figures)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=Path("/tmp/before_after.png"))
    p.add_argument("--shared", type=Path, default=LARGE)
    args = p.parse_args()
    paths = [args.shared / "selfie.jpeg", args.shared / "base.jpeg"]
    if not all(path.is_file() for path in paths):
        print(f"the shared photos are not in {args.shared}", file=sys.stderr)
        return 1
    warm_up()
    selfie, base = (cv2.imread(str(path), cv2.IMREAD_COLOR) for path in paths)
    rows = []
    directions = (("selfie -> base", selfie, base), ("base -> selfie", base, selfie))
    for name, source, target in directions:
        image, figures = row(source, target)
        rows.append(image)
        print(f"{name}: {figures}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), np.vstack(rows))
    print(f"target | source | before | after: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
