"""How reliably the engine finds a hand in front of a target's face, and never
finds one on a bare face (hands.py).

    .venv/bin/python -m benchmarks.hand_detection [--shared DIR] [--list]

Faces: those of ``engine_quality`` (the shared photos and the fixtures), each as
found and in rescaled and JPEG-recompressed copies (``glasses_detection.VARIANTS``),
its landmarks found again in each copy. Each is judged as the swap judges its
target (``judged``): the hands kept round it (``hands.kept_hands``, on the whole
photo) drawn on its analysis grid, and kept only when they cross the face
(``hands.hand_mask``). Bare: every face as it is, except those listed in
REAL_HANDS, whose photos show a real hand at or over the face. Hands: on each
face of each copy, a synthetic hand (``draw_hand``: a palm and five fingers,
shaded like cylinders, of the face's own skin colour and grain) in three poses
(POSES), judged at the face's landmarks found again with the hand over it.
Prints, per kind, how many were found, the bare faces' false finds, and the
real hands' verdicts.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # also runnable as a plain script

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks.glasses_detection import detection_run, face_variants, landmarks_in, target_grid  # noqa: E402
from swaps.engine import hands, shape  # noqa: E402

# Faces of the shared photos with a real hand at the face: a fist over the chin
# (bald_guys#3), a hand holding a phone to the ear (bald_guys#2), a hand on the
# chest below the face (2008_001009#0), a hand beside it (2008_002506#1).
REAL_HANDS = ("bald_guys#3", "bald_guys#2", "2008_001009#0", "2008_002506#1")
# Where a synthetic hand is drawn: its wrist (a 68-point index and an offset in
# eye distances), its turn (degrees, counter-clockwise; 0: fingers up), mirrored.
POSES = {
    "cheek": (5, (-0.2, 1.2), -20.0, False),
    "jaw": (11, (0.2, 1.2), 20.0, True),
    "mouth": (3, (-1.3, 0.5), -60.0, False),
}
PALM_IOD = 1.1  # the palm's length (wrist to the middle finger's knuckle), eye distances


def _iod(marks: np.ndarray) -> float:
    return float(np.linalg.norm(marks[36:42].mean(axis=0) - marks[42:48].mean(axis=0)))


def _parts(palm: float, size: tuple[int, int]) -> list[np.ndarray]:
    """uint8 masks of a hand seen from its back, fingers up, on a canvas of
    ``size`` (w, h) with the wrist at ``_wrist``: the palm and forearm, four
    fingers, the thumb."""
    cx, wy = _wrist(palm)
    width = 0.85 * palm
    body = np.zeros(size[::-1], np.uint8)
    corners = [
        (cx - 0.35 * palm, wy),
        (cx + 0.35 * palm, wy),
        (cx + width / 2, wy - 0.9 * palm),
        (cx - width / 2, wy - 0.95 * palm),
    ]
    cv2.fillPoly(body, [np.round(corners).astype(np.int32)], 1)
    arm = (round(cx - 0.33 * palm), round(wy)), (round(cx + 0.33 * palm), size[1])
    cv2.rectangle(body, *arm, 1, -1)
    parts = [body]
    # pinky, ring, middle, index: (length, width) in palm lengths
    for k, length in enumerate((0.75, 0.95, 1.0, 0.9)):
        base = np.array([cx - width / 2 + width * (k + 0.5) / 4, wy - 0.92 * palm])
        turn = np.deg2rad((k - 1.5) * 6)
        parts.append(
            _finger(
                size,
                base,
                base + length * palm * np.array([np.sin(turn), -np.cos(turn)]),
                0.21 * palm,
            )
        )
    base = np.array([cx + 0.33 * palm, wy - 0.25 * palm])
    turn = np.deg2rad(40)
    parts.append(
        _finger(
            size, base, base + 0.75 * palm * np.array([np.sin(turn), -np.cos(turn)]), 0.25 * palm
        )
    )
    return parts


def _wrist(palm: float) -> tuple[float, float]:
    """The wrist's place on the canvas (3 x 3.6 palm lengths, ``hand_image``)."""
    return 1.5 * palm, 2.76 * palm


def _finger(size: tuple[int, int], base: np.ndarray, tip: np.ndarray, width: float) -> np.ndarray:
    out = np.zeros(size[::-1], np.uint8)
    ends = [tuple(int(v) for v in np.round(p)) for p in (base, tip)]
    cv2.line(out, ends[0], ends[1], 1, max(1, round(width)))
    cv2.circle(out, ends[1], max(1, round(width / 2)), 1, -1)
    return out


def _skin(image: np.ndarray, marks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The cheeks' median colour, and their fine grain (a high-passed patch)."""
    cheeks = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(cheeks, [np.round(marks[[1, 28, 15, 13, 33, 3]]).astype(np.int32)], 1)
    colour = np.median(image[cheeks > 0].astype(np.float32), axis=0)
    centre = np.round(marks[[2, 31]].mean(axis=0)).astype(int)
    r = max(4, round(0.12 * _iod(marks)))
    patch = image[centre[1] - r : centre[1] + r, centre[0] - r : centre[0] + r].astype(np.float32)
    return colour, patch - cv2.GaussianBlur(patch, (0, 0), 2.0)


def hand_image(image: np.ndarray, marks: np.ndarray, palm: float) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic hand (BGR uint8) and its coverage (float 0..1), fingers up, its
    wrist at ``_wrist``, its forearm down out of a canvas 3 x 3.6 palm lengths."""
    size = (round(3 * palm), round(3.6 * palm))
    colour, grain = _skin(image, marks)
    reps = size[1] // grain.shape[0] + 1
    grain = np.tile(grain, (reps, reps, 1))[: size[1], : size[0]]
    out = np.zeros((size[1], size[0], 3), np.float32)
    cover = np.zeros(size[::-1], np.float32)
    for part in _parts(palm, size):  # later parts over earlier ones
        inside = cv2.distanceTransform(part, cv2.DIST_L2, 3)
        shade = 0.62 + 0.38 * np.sqrt(np.clip(inside / max(float(inside.max()), 1.0), 0, 1))
        body = part > 0
        out[body] = (colour * shade[..., None] + grain)[body]
        edge = body & ~(cv2.erode(part, np.ones((3, 3), np.uint8)) > 0)
        out[edge] *= 0.6  # the outline between fingers
        cover[body] = 1.0
    return np.clip(out, 0, 255).astype(np.uint8), cover


def draw_hand(image: np.ndarray, marks: np.ndarray, pose: str) -> tuple[np.ndarray, np.ndarray]:
    """A copy of ``image`` with a synthetic hand in front of the face (POSES),
    and where the hand is (bool)."""
    index, offset, turn, mirrored = POSES[pose]
    iod = _iod(marks)
    palm = PALM_IOD * iod
    hand, cover = hand_image(image, marks, palm)
    if mirrored:
        hand, cover = hand[:, ::-1].copy(), cover[:, ::-1].copy()
    wrist = np.array(_wrist(palm))
    move = cv2.getRotationMatrix2D((float(wrist[0]), float(wrist[1])), turn, 1.0)
    move[:, 2] += marks[index] + np.asarray(offset) * iod - wrist
    h, w = image.shape[:2]
    placed = cv2.warpAffine(hand, move, (w, h), flags=cv2.INTER_LINEAR)
    alpha = cv2.warpAffine(cover, move, (w, h), flags=cv2.INTER_LINEAR)[..., None]
    out = image * (1.0 - alpha) + placed * alpha
    return np.clip(out + 0.5, 0, 255).astype(np.uint8), alpha[..., 0] > 0.5


def judged(image: np.ndarray, landmarks: np.ndarray) -> bool:
    """A hand kept in front of the face of these ``landmarks``, as the swap judges
    its target: found on the whole photo, kept where it crosses the face."""
    held = hands.kept_hands(image, landmarks)
    if not held:
        return False
    crop, own, iod = target_grid(image, landmarks)
    points, _ = shape.extend_landmarks(landmarks, 0.18)
    lo = np.maximum(np.floor(points[shape.OUTLINE].min(axis=0) - 2).astype(int), 0)
    scale = np.asarray(crop.shape[1::-1]) / _crop_size(image, landmarks)
    on_grid = [(p - lo + 0.5) * scale - 0.5 for p in held]
    return hands.hand_mask(on_grid, own, iod, crop.shape[:2]) is not None


def _crop_size(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """(w, h) of the crop ``target_grid`` shrinks onto the grid."""
    points, _ = shape.extend_landmarks(landmarks, 0.18)
    lo = np.maximum(np.floor(points[shape.OUTLINE].min(axis=0) - 2).astype(int), 0)
    hi = np.ceil(points[shape.OUTLINE].max(axis=0) + 2).astype(int) + 1
    hi = np.minimum(hi, image.shape[1::-1])
    return (hi - lo).astype(np.float64)


def main() -> None:
    args, photos, faces = detection_run(__doc__, "print every face judged wrong")
    rows = {"bare": [0, 0]} | {f"hand, {pose}": [0, 0] for pose in POSES}  # found, not
    wrong, real = [], []
    for face, (scale, quality), image, marks in face_variants(photos, faces):
        if marks is None:
            continue
        label = f"{face.name} x{scale} q{quality}"
        verdict = judged(image, marks)
        if face.name in REAL_HANDS:
            real.append(f"{label}: {'kept' if verdict else 'not kept'}")
        else:
            rows["bare"][0 if verdict else 1] += 1
            if verdict:
                wrong.append(f"{label}: bare, a hand found")
        for pose in POSES:
            drawn = draw_hand(image, marks, pose)[0]
            # As the service sees it: the face's landmarks found again with the hand over it.
            again = landmarks_in(drawn, marks)
            found = again is not None and judged(drawn, again)
            rows[f"hand, {pose}"][0 if found else 1] += 1
            if not found:
                wrong.append(f"{label}: {pose} hand missed")
    print("| faces | found | not found |")
    print("|---|---|---|")
    for label, row in rows.items():
        print(f"| {label} | " + " | ".join(map(str, row)) + " |")
    print("\nReal hands:\n" + "\n".join(real))
    if args.list:
        print("\n".join(wrong))


if __name__ == "__main__":
    main()
