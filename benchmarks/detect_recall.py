"""How many of the annotated faces the detector finds, and at what cost.

    taskset -c 0 .venv/bin/python -m benchmarks.detect_recall [--shared ../shared/faces/multi]

Reads dlib's imglab XML files (``<image file=...><box top left width height>``)
in the folder, detects every face of each photo as a swap does (the whole
pyramid, then the finer pass for crowds), and counts an annotated face as
found when a detection's centre lies inside its box and the two sizes are
within a factor of two. Detections matching no annotation are "extra" (in a
photo with annotations, a real but unannotated face counts as extra too).
Prints a row per photo for the rule with and without the finer pass for
crowds, then the totals. Times are the median of ``--runs`` wall-clock runs.
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

from swaps.engine import warm_up  # noqa: E402
from swaps.engine.detect import find_face_boxes  # noqa: E402

Box = tuple[int, int, int, int]  # x, y, w, h


def annotations(folder: Path) -> dict[Path, list[Box]]:
    """Annotated face boxes per photo, from every imglab XML file in ``folder``."""
    found: dict[Path, list[Box]] = {}
    for xml in sorted(folder.glob("*.xml")):
        for image in ET.parse(xml).getroot().iter("image"):
            boxes = [tuple(int(b.get(k)) for k in ("left", "top", "width", "height"))
                     for b in image.findall("box")]
            found[folder / image.get("file")] = boxes
    return found


def matches(box: Box, rect) -> bool:
    x, y, w, h = box
    cx, cy = (rect.left() + rect.right()) / 2, (rect.top() + rect.bottom()) / 2
    ratio = rect.width() / max(w, 1)
    return x <= cx <= x + w and y <= cy <= y + h and 0.5 <= ratio <= 2.0


def measure(path: Path, boxes: list[Box], crowds: bool, runs: int) -> tuple[int, int, float]:
    """(annotated faces found, extra detections, median ms) for one photo."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        rects = [r for r, _ in find_face_boxes(image, crowds=crowds)]
        times.append((time.perf_counter() - start) * 1000)
    hit = sum(any(matches(b, r) for r in rects) for b in boxes)
    extra = sum(not any(matches(b, r) for b in boxes) for r in rects)
    return hit, extra, statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "faces" / "multi")
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    photos = annotations(args.shared)
    if not photos:
        sys.exit(f"no imglab XML annotations in {args.shared}")
    warm_up()
    print("| photo | faces | found (first pass only) | found | extra | ms (first pass only) | ms |")
    print("|---|---|---|---|---|---|---|")
    totals = [0, 0, 0, 0]
    for path, boxes in photos.items():
        hit0, _, ms0 = measure(path, boxes, False, args.runs)
        hit, extra, ms = measure(path, boxes, True, args.runs)
        totals = [totals[0] + len(boxes), totals[1] + hit0, totals[2] + hit, totals[3] + extra]
        print(f"| {path.name} | {len(boxes)} | {hit0} | {hit} | {extra} | {ms0:.0f} | {ms:.0f} |")
    faces, hit0, hit, extra = totals
    print(f"\n{faces} annotated faces: {hit0} ({hit0 / faces:.0%}) found by the first pass "
          f"alone, {hit} ({hit / faces:.0%}) with the finer pass for crowds; {extra} extra.")


if __name__ == "__main__":
    main()
