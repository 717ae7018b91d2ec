"""Quality of the face-swap engine beside a naive baseline, on cross-identity pairs.

    .venv/bin/python -m benchmarks.engine_quality [--split tune|held-out|all]
        [--option likeness=0.6 ...] [--sheet /tmp/engine_quality.png]

Faces: every swappable face in the photos under ``--shared`` (default
../shared/faces: multi/ group photos, large/ portraits; any folder of photos
works) and in the test fixtures. A face is left out when it is turned away
(nose tip outside the middle 60% of the jaw's width), when its eyes are under
10 px apart, or when the photo's 68-point annotations (dlib imglab XML such as
multi/*.xml) disagree with our landmarks by more than 0.1 inter-ocular
distances (a bad fit).

Pairs: for each target face, ``--per-target`` source faces of another person
(dlib descriptor distance >= 0.6), drawn with a fixed seed, other photos first.
Photos are split in two by a hash of their name (crc32 parity), and pairs never
cross the split: "tune" (the fixtures' half, used to choose the defaults) and
"held-out" (never looked at while tuning).

Methods: "engine" (swap_face with the options given) and "baseline" (the
source face's box cut out, resized onto the target face's box and
cv2.seamlessClone'd, no landmarks). Figures (swaps/engine/quality.py):
d_src, d_tgt, transferred, head_err, background changed share, seam ratio, and
the light figures, each as a median and its worst pair: tone (mean colour),
shade (the light's direction across the face) and light (cast shadows, hot spots);
light (face), a diagnostic with no target: light over the whole face (the 68 points'
hull: outer cheeks, jaw and temples too), not the inner face;
relief, a diagnostic with no target: how much wider the result's inner-face skin spreads
its L* than the target's (a studio face's modelling carried into a flat photo);
forehead (mean and worst pair, no target yet): the share of the target's forehead
skin that is not skin in the result (the source's hair pasted over it);
hair (mean and worst pair, no target yet): the share of the target's bare upper face
outside its middle (temples, outer brows, forehead) that is hair-like in the result
(not skin, or a thin dark line: the source's strands pasted there);
fringe (median and worst pair, a diagnostic with no target): the share of the lower face's
outline band coloured by neither the target there nor the result's skin (the source's
background or hair in the feathered edge, ``pasted.fringe_pasted``);
grain, a diagnostic with no target: the result's finest band over the target's on the
inner face's skin (median, and the smoothest pair): below 1, a plastic face;
half chroma, half texture, half noise and half blotch, diagnostics with no target: how the
result's two halves differ in colour (for their lightness), texture contrast, noise and
evenness of brightness (patches 0.2-0.6 of the eye distance) beyond the target's halves
(``quality.half_mismatch``, ``halves``): a lifted shadow that reads grey, flat, noisy or
mottled reads high;
patch, a diagnostic with no target: how much darker (L*) the result's darkest patches on
the upper face's skin (temples, forehead band) are than the target's, beyond the upper
face's median difference (``pasted.upper_patch``): a shadow deeper than the light lifts.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import statistics
import sys
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(100_000_000))
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # also runnable as a plain script

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from swaps.engine import Face, SwapOptions, detect_faces, face_descriptor, swap_scores, warm_up  # noqa: E402
from swaps.engine import quality as q  # noqa: E402
from swaps.engine.pipeline import swap_face  # noqa: E402

DEFAULT_SHARED = REPO.parent / "shared" / "faces"
FIXTURES = REPO / "tests" / "fixtures"
DEFAULT_SHEET = Path("/tmp/engine_quality.png")
SPLITS = {1: "tune", 0: "held-out"}
MIN_IOD_PX = 10.0
YAW_RANGE = (0.2, 0.8)
MAX_ANNOTATION_ERR = 0.1

TARGETS = {  # figure (a median, a share, or "worst X", the largest): (">=" or "<=", threshold)
    "transferred": (">=", 0.90),
    "d_src": ("<=", 0.40),
    "head_err": ("<=", 0.06),
    "background": ("<=", 0.005),
    "seam": ("<=", 1.10),
    "tone": ("<=", 4.0),
    "worst tone": ("<=", 8.0),
    "shade": ("<=", 2.5),
    "worst shade": ("<=", 5.0),
    "light": ("<=", 1.8),
    "worst light": ("<=", 2.5),
}
LIGHT_FIGURES = ("tone", "shade", "light")


@dataclass
class FaceRef:
    photo: str
    index: int
    face: Face
    descriptor: np.ndarray

    @property
    def name(self) -> str:
        return f"{self.photo}#{self.index}"

    @property
    def split(self) -> str:
        return SPLITS[zlib.crc32(self.photo.encode()) % 2]


@dataclass
class Pair:
    source: FaceRef
    target: FaceRef


IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}


def photo_paths(shared: Path, fixtures: bool = True) -> list[Path]:
    """Every image under ``shared`` (recursively), then the test fixtures."""
    found = sorted(p for p in shared.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    return found + (sorted(FIXTURES.glob("*.jpg")) if fixtures else [])


def annotations(shared: Path) -> dict[str, list[np.ndarray]]:
    """photo file name -> the 68-point annotations of its faces (dlib's imglab
    XML, like multi/*.xml; any *.xml under ``shared`` that parses as one)."""
    out: dict[str, list[np.ndarray]] = {}
    for path in sorted(shared.rglob("*.xml")):
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError:
            continue
        for image in root.iter("image"):
            for box in image.iter("box"):
                parts = sorted(box.iter("part"), key=lambda p: int(p.get("name", "0")))
                pts = np.array([(float(p.get("x", 0)), float(p.get("y", 0))) for p in parts])
                out.setdefault(Path(image.get("file", "")).name, []).append(pts)
    return out


def swappable(face: Face, known: list[np.ndarray]) -> bool:
    pts = face.landmarks
    iod = q.inter_ocular(pts)
    yaw = (pts[30, 0] - pts[0, 0]) / max(pts[16, 0] - pts[0, 0], 1e-6)
    if iod < MIN_IOD_PX or not YAW_RANGE[0] <= yaw <= YAW_RANGE[1]:
        return False
    if not known:
        return True
    err = min(float(np.linalg.norm(a - pts, axis=1).mean()) for a in known if len(a) == 68)
    return err / iod <= MAX_ANNOTATION_ERR


def load_faces(shared: Path, fixtures: bool = True) -> tuple[dict[str, np.ndarray], list[FaceRef]]:
    images: dict[str, np.ndarray] = {}
    faces = []
    notes = annotations(shared)
    for path in photo_paths(shared, fixtures):
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        photo = path.stem
        if image is None or photo in images:
            continue
        for i, face in enumerate(detect_faces(image)):
            if swappable(face, notes.get(path.name, [])):
                images[photo] = image
                faces.append(FaceRef(photo, i, face, face_descriptor(image, face.landmarks)))
    return images, faces


def build_pairs(faces: list[FaceRef], per_target: int, seed: int = 4) -> list[Pair]:
    rng = random.Random(seed)
    pairs = []
    for target in faces:
        others = [
            f
            for f in faces
            if f.split == target.split
            and q.identity_distance(f.descriptor, target.descriptor) >= q.SAME_PERSON
        ]
        rng.shuffle(others)
        others.sort(key=lambda f: f.photo == target.photo)  # other photos first (stable)
        pairs += [Pair(s, target) for s in others[:per_target]]
    return pairs


def engine_swap(options: SwapOptions) -> Callable[[np.ndarray, Face, np.ndarray, Face], np.ndarray]:
    def run(source: np.ndarray, sface: Face, target: np.ndarray, tface: Face) -> np.ndarray:
        return swap_face(source, sface.landmarks, target, tface.landmarks, options)

    return run


def baseline_swap(source: np.ndarray, sface: Face, target: np.ndarray, tface: Face) -> np.ndarray:
    """The source face's box, resized onto the target's box and seamlessClone'd."""
    sx, sy, sw, sh = sface.box
    tx, ty, tw, th = tface.box
    # seamlessClone needs the patch (and a 1 px frame) inside the target.
    x0, y0 = max(tx, 1), max(ty, 1)
    x1 = min(tx + tw, target.shape[1] - 1)
    y1 = min(ty + th, target.shape[0] - 1)
    patch = cv2.resize(source[sy : sy + sh, sx : sx + sw], (tw, th), interpolation=cv2.INTER_AREA)
    patch = patch[y0 - ty : y1 - ty, x0 - tx : x1 - tx]
    mask = np.full(patch.shape[:2], 255, np.uint8)
    centre = (x0 + (x1 - x0) // 2, y0 + (y1 - y0) // 2)
    return cv2.seamlessClone(patch, target, mask, centre, cv2.NORMAL_CLONE)


def evaluate(
    images: dict[str, np.ndarray],
    pairs: list[Pair],
    methods: dict[str, Callable[..., np.ndarray]],
    keep_outputs: bool = False,
) -> list[dict]:
    rows = []
    for pair in pairs:
        src, dst = images[pair.source.photo], images[pair.target.photo]
        row: dict = {"pair": f"{pair.source.name} -> {pair.target.name}", "pair_obj": pair}
        for name, method in methods.items():
            out = method(src, pair.source.face, dst, pair.target.face)
            scores = swap_scores.score_swap(
                out, dst, pair.target.face, pair.source.descriptor, pair.target.descriptor
            )
            row[name] = scores
            if keep_outputs:
                row[f"{name}_image"] = _face_tile(out, pair.target.face)
        if keep_outputs:
            row["target_image"] = _face_tile(dst, pair.target.face)
            row["source_image"] = _face_tile(src, pair.source.face)
        rows.append(row)
    return rows


def _face_tile(image: np.ndarray, face: Face, size: int = 160) -> np.ndarray:
    x, y, w, h = face.box
    cx, cy, half = x + w / 2, y + h / 2, 0.9 * max(w, h)
    x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
    crop = image[y0 : int(cy + half), x0 : int(cx + half)]
    interp = cv2.INTER_AREA if crop.shape[0] > size else cv2.INTER_CUBIC
    return cv2.resize(crop, (size, size), interpolation=interp)


def contact_sheet(rows: list[dict], methods: Iterable[str], path: Path, per_line: int = 2) -> None:
    """target | source | result (| baseline) tiles, ``per_line`` pairs side by side."""
    quads = []
    for row in rows:
        tiles = [row["target_image"], row["source_image"], *(row[f"{m}_image"] for m in methods)]
        quads.append(np.hstack([*tiles, np.full((tiles[0].shape[0], 8, 3), 255, np.uint8)]))
    blank = np.zeros_like(quads[0])
    quads += [blank] * (-len(quads) % per_line)
    lines = [np.hstack(quads[i : i + per_line]) for i in range(0, len(quads), per_line)]
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.vstack(lines))


def summary(scores: list[swap_scores.SwapScores]) -> dict[str, float]:
    def med(key: str) -> float:
        return statistics.median(getattr(s, key) for s in scores)

    out = {"transferred": sum(s.transferred for s in scores) / len(scores)}
    keys = ("d_src", "d_tgt", "head_err", "background", "seam", *LIGHT_FIGURES)
    out |= {k: med(k) for k in keys}
    out |= {f"worst {k}": max(getattr(s, k) for s in scores) for k in LIGHT_FIGURES}
    out["light (face)"] = med("light_face")
    out["worst light (face)"] = max(s.light_face for s in scores)
    out["relief"] = med("relief")
    out["worst relief"] = max(s.relief for s in scores)
    for key in ("half_chroma", "half_texture", "half_noise", "half_blotch", "patch"):
        out[key.replace("_", " ")] = med(key)
        out[f"worst {key.replace('_', ' ')}"] = max(getattr(s, key) for s in scores)
    out["grain"] = med("grain")
    out["worst grain"] = min(s.grain for s in scores)
    out["forehead"] = statistics.fmean(s.forehead for s in scores)
    out["worst forehead"] = max(s.forehead for s in scores)
    out["hair"] = statistics.fmean(s.hair for s in scores)
    out["worst hair"] = max(s.hair for s in scores)
    out["fringe"] = med("fringe")
    out["worst fringe"] = max(s.fringe for s in scores)
    out["found"] = sum(s.found for s in scores) / len(scores)
    return out


def meets(figures: dict[str, float]) -> dict[str, bool]:
    return {k: figures[k] <= t if op == "<=" else figures[k] >= t for k, (op, t) in TARGETS.items()}


def _cells(s: swap_scores.SwapScores) -> str:
    return (
        f"{s.d_src:.3f} | {s.d_tgt:.3f} | {'yes' if s.transferred else 'no'} | "
        f"{s.head_err:.3f} | {100 * s.background:.2f}% | {s.seam:.2f} | {s.tone:.1f} | "
        f"{s.shade:.1f} | {s.light:.1f} | {s.light_face:.1f} | {s.relief:.1f} | "
        f"{s.grain:.2f} | {s.half_chroma:.2f} | {s.half_texture:.2f} | {s.half_noise:.2f} | "
        f"{s.half_blotch:.2f} | {s.patch:.1f} | "
        f"{100 * s.forehead:.1f}% | {100 * s.hair:.1f}% | {100 * s.fringe:.2f}%"
    )


def pair_table(rows: list[dict], methods: list[str]) -> str:
    head = (
        "| pair | method | d_src | d_tgt | transferred | head_err | background | seam | tone "
        "| shade | light | light (face) | relief | grain | half chroma | half texture "
        "| half noise | half blotch | patch | forehead | hair | fringe |"
    )
    lines = [head, "|---" * 22 + "|"]
    for row in rows:
        lines += [f"| {row['pair']} | {m} | {_cells(row[m])} |" for m in methods]
    return "\n".join(lines)


def _figure(key: str, value: float) -> str:
    if key in ("transferred", "found"):
        return f"{100 * value:.0f}%"
    if key in ("forehead", "worst forehead", "hair", "worst hair"):
        return f"{100 * value:.1f}%"
    if key in ("fringe", "worst fringe"):
        return f"{100 * value:.2f}%"
    return f"{100 * value:.2f}%" if key == "background" else f"{value:.3f}"


def median_table(groups: dict[str, dict[str, list[swap_scores.SwapScores]]]) -> str:
    keys = [
        "transferred",
        "d_src",
        "d_tgt",
        "head_err",
        "background",
        "seam",
        "tone",
        "worst tone",
        "shade",
        "worst shade",
        "light",
        "worst light",
        "light (face)",
        "worst light (face)",
        "relief",
        "worst relief",
        "grain",
        "worst grain",
        "half chroma",
        "worst half chroma",
        "half texture",
        "worst half texture",
        "half noise",
        "worst half noise",
        "half blotch",
        "worst half blotch",
        "patch",
        "worst patch",
        "forehead",
        "worst forehead",
        "hair",
        "worst hair",
        "fringe",
        "worst fringe",
        "found",
    ]
    lines = [
        "| split | method | pairs | " + " | ".join(keys) + " | all targets met |",
        "|---|---|---|" + "---|" * (len(keys) + 1),
    ]
    for split, by_method in groups.items():
        for method, scores in by_method.items():
            fig = summary(scores)
            ok = meets(fig)
            cells = " | ".join(_figure(k, fig[k]) + ("" if ok.get(k, True) else " ✗") for k in keys)
            verdict = "yes" if all(ok.values()) else "no"
            lines.append(f"| {split} | {method} | {len(scores)} | {cells} | {verdict} |")
    return "\n".join(lines)


def parse_options(items: list[str]) -> SwapOptions:
    """SwapOptions from ``field=value`` strings (numbers, or true/false)."""
    opts = SwapOptions()
    for item in items:
        key, _, value = item.partition("=")
        current = getattr(opts, key)
        if isinstance(current, bool):
            parsed: object = value.lower() in ("1", "true", "yes")
        else:
            parsed = type(current)(value) if current is not None else float(value)
        opts = dataclasses.replace(opts, **{key: parsed})
    return opts


def choose_methods(args: argparse.Namespace) -> dict[str, Callable[..., np.ndarray]]:
    opts = parse_options(args.option)
    methods = {"engine": engine_swap(opts)}
    for level in args.sweep:
        methods[f"likeness {level:g}"] = engine_swap(dataclasses.replace(opts, likeness=level))
    if not args.no_baseline:
        methods["baseline"] = baseline_swap
    return methods


def by_split(rows: list[dict], methods: Iterable[str]) -> dict[str, dict[str, list]]:
    groups: dict[str, dict[str, list[swap_scores.SwapScores]]] = {}
    for split in ("tune", "held-out", "all"):
        chosen = [r for r in rows if split in ("all", r["pair_obj"].target.split)]
        if chosen:
            groups[split] = {m: [r[m] for r in chosen] for m in methods}
    return groups


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--split", choices=["tune", "held-out", "all"], default="all")
    p.add_argument("--per-target", type=int, default=3, help="source faces per target face")
    p.add_argument("--option", action="append", default=[], help="SwapOptions field=value")
    p.add_argument(
        "--sweep",
        type=lambda v: [float(x) for x in v.split(",")],
        default=[],
        help="also run the engine at these likeness levels, e.g. 0,0.35,1",
    )
    p.add_argument("--no-baseline", action="store_true", help="skip the baseline")
    p.add_argument("--sheet", type=Path, default=DEFAULT_SHEET, help="contact sheet PNG")
    p.add_argument("--pairs-table", action="store_true", help="print every pair's figures")
    p.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="photos (recursive)")
    p.add_argument("--no-fixtures", action="store_true", help="leave the test fixtures out")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    cv2.setNumThreads(1)
    warm_up()
    images, faces = load_faces(args.shared, fixtures=not args.no_fixtures)
    pairs = build_pairs(faces, args.per_target)
    pairs = [pr for pr in pairs if args.split in ("all", pr.target.split)]
    if not pairs:
        print(f"no cross-identity pairs among {len(faces)} faces", file=sys.stderr)
        return 1
    methods = choose_methods(args)
    rows = evaluate(images, pairs, methods, keep_outputs=True)
    contact_sheet(rows, methods, args.sheet)
    if args.pairs_table:
        print(pair_table(rows, list(methods)) + "\n")
    print(f"{len(faces)} faces, {len(pairs)} pairs; engine: {parse_options(args.option)}\n")
    print(median_table(by_split(rows, methods)))
    print(f"\nContact sheet (target | source | {' | '.join(methods)}): {args.sheet}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
