"""How many of the annotated faces the detector finds, with no false ones, and at what cost.

    taskset -c 0 .venv/bin/python -m benchmarks.detect_recall [--shared ../shared/faces/multi]

Reads dlib's imglab XML files (``<image file=...><box top left width height>``)
in the folder and detects every face of each photo as a swap does, twice: on
the photo at its own size, and on the photo pasted at its own size into a
1000x1000 canvas (mid grey), the size of a typical upload, so small faces sit
in a bigger photo. An annotated face is found when a detection's centre lies
inside its box and the two widths are within a factor of two; any other
detection is "extra" (a real but unannotated face would count as extra too).
Photos in the folder without annotations (``dogs.jpg``: no human face) count
every detection as extra. Times are the median of ``--runs`` wall-clock runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # also runnable as a plain script

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from swaps.engine import warm_up  # noqa: E402
from swaps.engine.detect import Detection, find_face_boxes  # noqa: E402

Box = tuple[int, int, int, int]  # x, y, w, h
CANVAS = 1000


def annotations(folder: Path) -> dict[Path, list[Box]]:
    """Annotated face boxes per photo (every imglab XML file in ``folder``), and
    an empty list for each other photo there."""
    found: dict[Path, list[Box]] = {p: [] for p in sorted(folder.glob("*.jpg"))}
    for xml in sorted(folder.glob("*.xml")):
        for image in ET.parse(xml).getroot().iter("image"):
            boxes = [
                tuple(int(b.get(k)) for k in ("left", "top", "width", "height"))
                for b in image.findall("box")
            ]
            found[folder / image.get("file")] = boxes
    return found


def matches(box: Box, d: Detection) -> bool:
    x, y, w, h = box
    cx, cy = d.centre
    ratio = d.width / max(w, 1)
    return x <= cx <= x + w and y <= cy <= y + h and 0.5 <= ratio <= 2.0


def on_canvas(image: np.ndarray, boxes: list[Box]) -> tuple[np.ndarray, list[Box]]:
    """The photo pasted at its own size into the middle of a CANVAS x CANVAS grey
    canvas (cropped to it if larger), and its boxes moved with it."""
    h, w = image.shape[:2]
    canvas = np.full((CANVAS, CANVAS, 3), 128, np.uint8)
    ox, oy = max(0, (CANVAS - w) // 2), max(0, (CANVAS - h) // 2)
    part = image[: CANVAS - oy, : CANVAS - ox]
    canvas[oy : oy + part.shape[0], ox : ox + part.shape[1]] = part
    return canvas, [(x + ox, y + oy, bw, bh) for x, y, bw, bh in boxes]


def measure(image: np.ndarray, boxes: list[Box], runs: int) -> tuple[int, int, float]:
    """(annotated faces found, extra detections, median ms) for one image."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        found = find_face_boxes(image)
        times.append((time.perf_counter() - start) * 1000)
    hit = sum(any(matches(b, d) for d in found) for b in boxes)
    extra = sum(not any(matches(b, d) for b in boxes) for d in found)
    return hit, extra, statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "faces" / "multi")
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    photos = annotations(args.shared)
    if not any(photos.values()):
        sys.exit(f"no imglab XML annotations in {args.shared}")
    warm_up()
    print("| photo | size | faces | found | extra | ms | found in 1000x1000 | extra | ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    totals = np.zeros(5, int)
    for path, boxes in photos.items():
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        hit, extra, ms = measure(image, boxes, args.runs)
        hit2, extra2, ms2 = measure(*on_canvas(image, boxes), args.runs)
        totals += (len(boxes), hit, extra, hit2, extra2)
        size = f"{image.shape[1]}x{image.shape[0]}"
        print(
            f"| {path.name} | {size} | {len(boxes)} | {hit} | {extra} | {ms:.1f} "
            f"| {hit2} | {extra2} | {ms2:.1f} |"
        )
    faces, hit, extra, hit2, extra2 = totals
    print(
        f"\n{faces} annotated faces: {hit} found at the photos' own size ({extra} extra), "
        f"{hit2} found pasted into {CANVAS}x{CANVAS} ({extra2} extra)."
    )


if __name__ == "__main__":
    main()
