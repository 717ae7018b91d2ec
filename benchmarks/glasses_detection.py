"""How reliably the engine tells a target's glasses from a bare face (occluders.py).

    .venv/bin/python -m benchmarks.glasses_detection [--shared DIR] [--list]

Faces: those of ``engine_quality`` (the shared photos and the fixtures), each as
found and in rescaled (0.8, 0.9, 1.1, 1.2) and JPEG-recompressed (q 70, 80, 85)
copies, its landmarks found again in each copy. Each is judged as the swap judges
its target: on its analysis grid, by ``occluders.glasses_mask`` (the swap's own
crop also follows the source's shape, so a face on the threshold can differ).
Which faces wear glasses is labelled by hand (``WEARS_GLASSES``, looked at on the
photos); faces under ``occluders.MIN_IOD`` grid pixels between the eyes are never
judged and are counted apart. Prints glasses found / missed and bare faces taken
for glasses / right, per variant and in all.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # also runnable as a plain script

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks import engine_quality as eq  # noqa: E402
from swaps.engine import detect_faces, occluders, regions  # noqa: E402
from swaps.engine.pipeline import SwapOptions  # noqa: E402

# Looked at on the photos (2026-12-07): every face of the benchmark wearing glasses.
WEARS_GLASSES = {
    "grace_hopper#0",
    "2008_002506#0",
    "2008_001009#1",
    "2008_002470#2",
    "2008_002079#3",
    "2007_007763#6",
}
VARIANTS = [(1.0, None), (0.8, None), (0.9, None), (1.1, None), (1.2, None), (1.0, 70)]
VARIANTS += [(0.8, 80), (0.95, 85)]


def variant(image: np.ndarray, scale: float, quality: int | None) -> np.ndarray:
    if scale != 1.0:
        shrinking = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=shrinking)
    if quality is not None:
        _, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    return image


def target_grid(image: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The face of these ``landmarks`` as the swap judges a target (no morph), on
    the swap's own grid (``regions.target_grid``)."""
    return regions.target_grid(image, landmarks, SwapOptions().analysis_face_px)


def judged(image: np.ndarray, landmarks: np.ndarray) -> bool | None:
    """Glasses found on the face of these ``landmarks``, as the swap judges its
    target; None when the face is too small to be judged."""
    crop, own, iod = target_grid(image, landmarks)
    if iod < occluders.MIN_IOD:
        return None
    return occluders.glasses_mask(crop, own, iod) is not None


def landmarks_in(image: np.ndarray, near: np.ndarray) -> np.ndarray | None:
    faces = detect_faces(image)
    if not faces:
        return None
    return min(faces, key=lambda f: float(np.abs(f.landmarks - near).sum())).landmarks


def face_variants(photos: dict, faces: list) -> Iterator[tuple]:
    """(face, (scale, quality), image, landmarks or None) for every face in every
    variant: the landmarks found again on a rescaled or recompressed copy."""
    for face in faces:
        for scale, quality in VARIANTS:
            image = variant(photos[face.photo], scale, quality)
            marks = face.face.landmarks * scale
            if (scale, quality) != (1.0, None):
                marks = landmarks_in(image, marks)
            yield face, (scale, quality), image, marks


def detection_run(doc: str, list_help: str) -> tuple[argparse.Namespace, dict, list]:
    """The detection benchmarks' command line (``--shared``, ``--list``) and the
    engine benchmark's photos and faces."""
    p = argparse.ArgumentParser(description=doc.split("\n")[0])
    p.add_argument("--shared", type=Path, default=eq.DEFAULT_SHARED)
    p.add_argument("--list", action="store_true", help=list_help)
    args = p.parse_args()
    return (args, *eq.load_faces(args.shared))


def main() -> None:
    args, photos, faces = detection_run(__doc__, "print every face judged wrong")
    counts = {key: [0, 0, 0, 0, 0] for key in VARIANTS}  # found, missed, false, right, small
    wrong = []
    for face, (scale, quality), image, marks in face_variants(photos, faces):
        verdict = None if marks is None else judged(image, marks)
        wears = face.name in WEARS_GLASSES
        cell = 4 if verdict is None else (0 if verdict else 1) if wears else 2 if verdict else 3
        counts[(scale, quality)][cell] += 1
        if cell in (1, 2):
            wrong.append(f"{face.name} x{scale} q{quality}: {'missed' if wears else 'false'}")
    print("| variant | glasses found | missed | bare taken for glasses | bare right | too small |")
    print("|---|---|---|---|---|---|")
    for (scale, quality), row in counts.items():
        print(f"| x{scale} q{quality or '-'} | " + " | ".join(map(str, row)) + " |")
    total = [sum(row[k] for row in counts.values()) for k in range(5)]
    print("| all | " + " | ".join(map(str, total)) + " |")
    if args.list:
        print("\n".join(wrong))


if __name__ == "__main__":
    main()
