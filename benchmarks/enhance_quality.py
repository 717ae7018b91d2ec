"""Does ``enhance=True`` make the swapped face sharper without halos?

    .venv/bin/python -m benchmarks.enhance_quality [--sheet enhance.png] [--large]

Cross-identity pairs from the test fixtures and ../shared/faces/multi (each
photo's largest face; photos missing from disk are skipped). Each pair is
swapped twice, without and with ``enhance``, and measured on the target's
inner face (the hull of jaw points 2-14 and brows/eyes/nose/mouth: a region
that does not depend on the enhancer's own mask):

- ``lapvar``: variance of the Laplacian (sharpness), for the target's original
  face, the plain swap and the enhanced swap; ``hf``: mean squared detail
  finer than a Gaussian of sigma 1 px;
- ``outside``: pixels changed by enhance outside the swap's face outline (0:
  nothing leaks out);
- ``ring``: edge energy (mean gradient magnitude) in a ring just outside the
  face outline, enhanced over plain (1.000 = no halo beyond the face);
- ``overshoot``: share of face pixels pushed more than 8 levels beyond the
  5x5 range of the plain swap: the bright/dark rims a plain unsharp mask of the
  same radius (``usm`` column, amount 1, no clamp) leaves along edges.

``--large`` adds the 29 MP / 19 MP pair of ../shared/faces/large (a ~2000 px
face: what enhance costs at the top end).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(100_000_000))
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from swaps.engine import SwapOptions, detect_faces, enhance, shape, swap, warm_up  # noqa: E402
from tests.images import ASTRONAUT, GRACE_HOPPER, fixture_path  # noqa: E402

DEFAULT_SHARED = REPO.parent / "shared" / "faces"
PORTRAITS = (  # photos whose largest face is big enough to judge sharpness (>= ~80 px)
    "multi/Tom_Cruise_avp_2014_4.jpg",
    "multi/bald_guys.jpg",
    "multi/2008_002506.jpg",
    "multi/2008_001322.jpg",
    "multi/2008_001009.jpg",
    "multi/2009_004587.jpg",
)
OVERSHOOT_LEVELS = 8


@dataclass
class Row:
    pair: str
    face_px: int
    lapvar: tuple[float, float, float]  # target, plain, enhanced
    hf: tuple[float, float, float]
    outside: int
    ring: float
    overshoot: float
    usm_overshoot: float
    enhance_ms: float


def load_photos(shared: Path) -> dict[str, np.ndarray]:
    photos = {name: cv2.imread(str(fixture_path(name))) for name in (ASTRONAUT, GRACE_HOPPER)}
    for rel in PORTRAITS:
        if (shared / rel).is_file():
            photos[Path(rel).stem] = cv2.imread(str(shared / rel))
    return photos


def pairs(names: list[str]) -> list[tuple[str, str]]:
    """Each photo as target, with the next two photos (cyclically) as sources."""
    n = len(names)
    return [(names[(i + k) % n], names[i]) for i in range(n) for k in (1, 2) if n > k]


def _hull_mask(points: np.ndarray, shape_hw: tuple[int, ...]) -> np.ndarray:
    mask = np.zeros(shape_hw[:2], np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(points).astype(np.int32)), 1)
    return mask.astype(bool)


def _sharpness(image: np.ndarray, region: np.ndarray) -> tuple[float, float]:
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    lap = cv2.Laplacian(gray, cv2.CV_32F)
    return float(lap[region].var()), enhance.band_energy(gray, region, 1.0)


def _edge_energy(image: np.ndarray, region: np.ndarray) -> float:
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    gx, gy = cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1)
    return float(np.sqrt(gx**2 + gy**2)[region].mean())


def _overshoot(image: np.ndarray, plain: np.ndarray, region: np.ndarray) -> float:
    kernel = np.ones((5, 5), np.uint8)
    img = image.astype(np.int16)
    over = np.maximum(img - cv2.dilate(plain, kernel), cv2.erode(plain, kernel) - img)
    return float((over.max(axis=2)[region] > OVERSHOOT_LEVELS).mean())


def _plain_usm(image: np.ndarray, face_size: float) -> np.ndarray:
    sigma = float(np.clip(enhance.USM_SIGMA * face_size, *enhance.USM_SIGMA_PX))
    return cv2.addWeighted(image, 2.0, cv2.GaussianBlur(image, (0, 0), sigma), -1.0, 0)


def measure(source: np.ndarray, target: np.ndarray, name: str) -> tuple[Row, np.ndarray]:
    plain = swap(source, target)
    enhanced = swap(source, target, options=SwapOptions(enhance=True))
    landmarks = detect_faces(target)[0].landmarks
    inner = _hull_mask(landmarks[shape.INNER_FACE], target.shape)
    points, face_size = shape.extend_landmarks(landmarks, SwapOptions().forehead)
    outline = _hull_mask(points[shape.OUTLINE], target.shape)
    radius = max(2, round(0.05 * face_size))
    grown = cv2.dilate(outline.astype(np.uint8), np.ones((2 * radius + 1,) * 2, np.uint8))
    ring = grown.astype(bool) & ~outline
    changed = np.any(enhanced.image != plain.image, axis=2)
    row = Row(
        pair=name,
        face_px=round(face_size),
        lapvar=tuple(_sharpness(im, inner)[0] for im in (target, plain.image, enhanced.image)),
        hf=tuple(_sharpness(im, inner)[1] for im in (target, plain.image, enhanced.image)),
        outside=int((changed & ~outline).sum()),
        ring=_edge_energy(enhanced.image, ring) / max(_edge_energy(plain.image, ring), 1e-9),
        overshoot=_overshoot(enhanced.image, plain.image, inner),
        usm_overshoot=_overshoot(_plain_usm(plain.image, face_size), plain.image, inner),
        enhance_ms=enhanced.timings_ms.get("enhance", 0.0),
    )
    return row, _sheet_tile(plain.image, enhanced.image, points[shape.OUTLINE])


def _sheet_tile(plain: np.ndarray, enhanced: np.ndarray, outline: np.ndarray) -> np.ndarray:
    """Plain | enhanced crops around the face, 256 px high each."""
    x, y, w, h = cv2.boundingRect(np.round(outline).astype(np.int32))
    pad = w // 4
    ys = slice(max(0, y - pad), y + h + pad)
    xs = slice(max(0, x - pad), x + w + pad)
    crops = [im[ys, xs] for im in (plain, enhanced)]
    scale = 256 / crops[0].shape[0]
    return np.hstack([cv2.resize(c, None, fx=scale, fy=scale) for c in crops])


def _fmt(row: Row) -> str:
    t, p, e = row.lapvar
    return (
        f"| {row.pair} | {row.face_px} | {t:.0f} | {p:.0f} | {e:.0f} | {e / p:.2f} "
        f"| {row.hf[2] / row.hf[1]:.2f} | {row.outside} | {row.ring:.3f} "
        f"| {row.overshoot:.4f} | {row.usm_overshoot:.4f} | {row.enhance_ms:.1f} |"
    )


def summary(rows: list[Row]) -> str:
    def med(values: list[float]) -> float:
        return statistics.median(values)

    raised = sum(r.lapvar[2] > r.lapvar[1] for r in rows)
    gain = med([r.lapvar[2] / r.lapvar[1] for r in rows])
    plain_vs_target = med([r.lapvar[1] / r.lapvar[0] for r in rows])
    enhanced_vs_target = med([r.lapvar[2] / r.lapvar[0] for r in rows])
    return "\n".join(
        [
            f"pairs: {len(rows)}; sharper with enhance: {raised}/{len(rows)}",
            f"median lapvar ratio enhanced/plain: {gain:.2f}"
            f"; hf ratio: {med([r.hf[2] / r.hf[1] for r in rows]):.2f}",
            f"median lapvar vs target's face: plain {plain_vs_target:.2f}"
            f", enhanced {enhanced_vs_target:.2f}",
            f"pixels changed outside the face outline: max {max(r.outside for r in rows)}",
            f"ring edge energy enhanced/plain: max {max(r.ring for r in rows):.4f}",
            f"overshoot > {OVERSHOOT_LEVELS} levels: median {med([r.overshoot for r in rows]):.4f}"
            f" (plain unsharp mask: {med([r.usm_overshoot for r in rows]):.4f})",
            f"enhance stage: median {med([r.enhance_ms for r in rows]):.1f} ms",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="shared/faces dir")
    parser.add_argument("--sheet", type=Path, help="write a plain | enhanced contact sheet")
    parser.add_argument("--large", action="store_true", help="add the 29 MP / 19 MP pair")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    warm_up()
    photos = load_photos(args.shared)
    todo = pairs(list(photos))
    if args.large and (args.shared / "large" / "base.jpeg").is_file():
        for name in ("selfie", "base"):
            photos[name] = cv2.imread(str(args.shared / "large" / f"{name}.jpeg"))
        todo.append(("selfie", "base"))
    rows, tiles = [], []
    for src, dst in todo:
        row, tile = measure(photos[src], photos[dst], f"{Path(src).stem} -> {Path(dst).stem}")
        rows.append(row)
        tiles.append(tile)
    print(
        "| pair | face px | lapvar target | plain | enhanced | ratio | hf ratio | outside "
        "| ring | overshoot | usm overshoot | enhance ms |"
    )
    print("|---|" + "---|" * 11)
    print("\n".join(_fmt(r) for r in rows))
    print()
    print(summary(rows))
    if args.sheet:
        width = max(t.shape[1] for t in tiles)
        padded = [
            cv2.copyMakeBorder(t, 0, 4, 0, width - t.shape[1], cv2.BORDER_CONSTANT) for t in tiles
        ]
        cv2.imwrite(str(args.sheet), np.vstack(padded))
    return 0


if __name__ == "__main__":
    sys.exit(main())
