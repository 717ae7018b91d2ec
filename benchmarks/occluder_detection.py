"""How reliably the engine finds objects in front of a target's face, and never
finds one on a bare face (in_front.py).

    .venv/bin/python -m benchmarks.occluder_detection [--shared DIR] [--list]

Faces: those of ``engine_quality`` (the shared photos and the fixtures), each as
found and in rescaled and JPEG-recompressed copies (``glasses_detection.VARIANTS``),
its landmarks found again in each copy. Each is judged as the swap judges its
target: on its analysis grid, by ``in_front.occluder_mask``. Bare: every face as it
is (none of them has an object across the cheeks; bald_guys#3's fist at the chin
is skin-coloured), and each also under a coloured light over its left half
(``coloured_light``: blue, green, magenta, its edge 0.1 or 0.3 eye distances
wide), which is not an object either. Objects: drawn on each face of each copy at the landmarks
found on it (``draw_object``): a bar from the image's left edge across the left
cheek to beside the nose, and a stroke from below the right jaw up to the
nose, in dark, red, blue, green, grey and white, and a skin-coloured "finger"
(the face's own cheek colour, shaded, with its outline). Faces under
``in_front.MIN_IOD`` grid pixels between the eyes are never judged (counted apart).
Prints, per drawing, how many were found, and the bare faces' false finds.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # also runnable as a plain script

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks.glasses_detection import detection_run, face_variants, target_grid  # noqa: E402
from swaps.engine import in_front  # noqa: E402

COLOURS = {
    "dark": (30, 30, 35),
    "red": (40, 40, 190),
    "blue": (170, 90, 40),
    "green": (60, 150, 60),
    "grey": (120, 120, 125),
    "white": (235, 235, 235),
}
KINDS = ("cheek", "diag", "mic")
# Coloured light over the left half of a bare face (B, G, R gains, fading to
# none over the nose, half-width in eye distances): not an object.
LIGHTS = {
    "blue light": (1.5, 1.0, 0.65),
    "green light": (0.7, 1.15, 0.7),
    "magenta light": (1.2, 0.75, 1.2),
}
LIGHT_EDGES = (0.1, 0.3)


def _iod(marks: np.ndarray) -> float:
    return float(np.linalg.norm(marks[36:42].mean(axis=0) - marks[42:48].mean(axis=0)))


def object_shape(image_hw: tuple[int, ...], marks: np.ndarray, kind: str) -> np.ndarray:
    """uint8 0/1: "cheek", a bar half an eye distance tall from the image's left
    edge to beside the nose; "diag", a stroke 0.4 eye distances wide from below
    the right jaw up to the nose; "mic", a microphone's head 0.7 x 0.8 eye
    distances over the mouth and chin on a handle down out of the image;
    "finger", a finger 0.35 eye distances wide from below the left jaw up over
    the cheek."""
    iod = _iod(marks)
    out = np.zeros(image_hw[:2], np.uint8)
    if kind == "cheek":
        y = (marks[1, 1] + marks[30, 1]) / 2
        top, bottom = round(y - 0.25 * iod), round(y + 0.25 * iod)
        cv2.rectangle(out, (0, top), (round(marks[30, 0] - 0.1 * iod), bottom), 1, -1)
        return out
    if kind == "mic":
        head = np.round(marks[57] + (0, 0.15 * iod)).astype(int)
        axes = (round(0.35 * iod), round(0.4 * iod))
        cv2.ellipse(out, (int(head[0]), int(head[1])), axes, 0, 0, 360, 1, -1)
        half = round(0.12 * iod)
        cv2.rectangle(
            out, (int(head[0]) - half, int(head[1])), (int(head[0]) + half, image_hw[0]), 1, -1
        )
        return out
    if kind == "diag":
        start, end, width = marks[12] + 0.8 * iod, marks[29], 0.4
    else:
        start, end, width = marks[4] + (-0.6 * iod, 0.9 * iod), marks[40] + (0, 0.45 * iod), 0.35
    ends = [tuple(int(v) for v in np.round(p)) for p in (start, end)]
    cv2.line(out, ends[0], ends[1], 1, max(1, round(width * iod)))
    return out


def draw_object(
    image: np.ndarray, marks: np.ndarray, colour: tuple[int, int, int] | None, kind: str
) -> tuple[np.ndarray, np.ndarray]:
    """A copy of ``image`` with an object in front of the face (``object_shape``),
    flat ``colour``, or (None) skin-coloured: the cheeks' median colour, shaded
    across its width like a cylinder, darker along its outline. Returns the
    image and the object's core (bool, its edge left out)."""
    region = object_shape(image.shape, marks, kind)
    out = image.copy()
    if colour is not None:
        out[region > 0] = colour
    else:
        out[region > 0] = _skin_finger(image, marks, region)[region > 0]
    core = cv2.erode(region, np.ones((9, 9), np.uint8)) > 0
    return out, core


def _skin_finger(image: np.ndarray, marks: np.ndarray, region: np.ndarray) -> np.ndarray:
    """The cheeks' colour, 1.0 along the finger's middle falling to 0.75 at its
    sides (a cylinder lit from the front)."""
    cheeks = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(cheeks, [np.round(marks[[1, 28, 15, 13, 33, 3]]).astype(np.int32)], 1)
    colour = np.median(image[cheeks > 0].astype(np.float32), axis=0)
    inside = cv2.distanceTransform(region, cv2.DIST_L2, 3)
    shade = 0.75 + 0.25 * np.sqrt(np.clip(inside / max(float(inside.max()), 1.0), 0.0, 1.0))
    return np.clip(colour * shade[..., None], 0, 255).astype(np.uint8)


def coloured_light(
    image: np.ndarray, marks: np.ndarray, gains: tuple[float, float, float], edge: float
) -> np.ndarray:
    """``image`` with ``gains`` (B, G, R) on the left of the nose, none on its
    right, the change spread over ``edge`` eye distances either side."""
    ramp = np.clip((np.arange(image.shape[1]) - marks[30, 0]) / (edge * _iod(marks)), -1, 1)
    share = (1.0 - ramp) / 2.0  # 1 on the left
    factor = 1.0 + (np.asarray(gains)[None, :] - 1.0) * share[:, None]
    return np.clip(image * factor[None], 0, 255).astype(np.uint8)


def judged(image: np.ndarray, landmarks: np.ndarray) -> bool | None:
    """An object found in front of the face of these ``landmarks``, as the swap
    judges its target; None when the face is too small to be judged."""
    crop, own, iod = target_grid(image, landmarks)
    if iod < in_front.MIN_IOD:
        return None
    return in_front.occluder_mask(crop, own, iod) is not None


def drawings() -> list[tuple[str, tuple[int, int, int] | None]]:
    out: list[tuple[str, tuple[int, int, int] | None]] = [
        (kind, colour) for kind in KINDS for colour in COLOURS.values()
    ]
    return [*out, ("finger", None)]


def _label(kind: str, colour: tuple[int, int, int] | None) -> str:
    names = {v: k for k, v in COLOURS.items()}
    return f"{kind} {names[colour]}" if colour is not None else f"{kind} skin"


def main() -> None:
    args, photos, faces = detection_run(__doc__, "print every bare face found")
    lights = [
        (f"bare, {name} {edge}", gains, edge)
        for name, gains in LIGHTS.items()
        for edge in LIGHT_EDGES
    ]
    rows = {"bare": [0, 0, 0]} | {label: [0, 0, 0] for label, _, _ in lights}
    rows |= {_label(*d): [0, 0, 0] for d in drawings()}  # found, not, small
    wrong = []
    for face, (scale, quality), image, marks in face_variants(photos, faces):
        if marks is None:
            continue
        verdict = judged(image, marks)
        rows["bare"][2 if verdict is None else 0 if verdict else 1] += 1
        if verdict:
            wrong.append(f"{face.name} x{scale} q{quality}")
        for label, gains, edge in lights:
            found = judged(coloured_light(image, marks, gains, edge), marks)
            rows[label][2 if found is None else 0 if found else 1] += 1
            if found:
                wrong.append(f"{face.name} x{scale} q{quality} {label}")
        for kind, colour in drawings():
            found = judged(draw_object(image, marks, colour, kind)[0], marks)
            rows[_label(kind, colour)][2 if found is None else 0 if found else 1] += 1
    print("| faces | found | not found | too small |")
    print("|---|---|---|---|")
    for label, row in rows.items():
        print(f"| {label} | " + " | ".join(map(str, row)) + " |")
    if args.list:
        print("\n".join(wrong))


if __name__ == "__main__":
    main()
