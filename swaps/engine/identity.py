"""Saved faces: what a later swap needs from a source photo, so it skips detection.

A ``FaceIdentity`` keeps a crop around the face (with its 68 landmarks in crop
coordinates) and dlib's 128-d descriptor. Swapping from it costs neither the
decode of the whole photo nor face detection nor landmarks.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import dlib
import numpy as np

from . import models
from .checks import check_swappable, face_size
from .detect import WORK_PIXELS, find_face_boxes, place_landmarks
from .errors import EngineError, FaceCountMismatch, NoFaceDetected
from .images import as_bgr
from .shape import N_LANDMARKS

# Saved-face layout, version 1: this magic, 68 x 2 + 128 little-endian float32
# (landmarks, descriptor), then the crop as a JPEG. A new layout gets a new magic.
MAGIC = b"FACEID1\n"
# Room around the 68 landmarks, in face widths: enough for the forehead band
# (swap option ``forehead`` ~0.2) and the colour match's neighbourhood.
CROP_MARGIN = 0.35
# Larger crops are shrunk: the face stays ~300 px wide, plenty for any target
# face up to about that size, and the saved face stays ~30-60 kB.
CROP_MAX_SIDE = 512
JPEG_QUALITY = 95
DESCRIPTOR_SIZE = 128
_NUMBERS = 2 * N_LANDMARKS + DESCRIPTOR_SIZE
_JPEG_AT = len(MAGIC) + 4 * _NUMBERS

# dlib's network keeps per-call state in its layers: one call at a time.
_encoder_lock = threading.Lock()


def _corrupt(why: str) -> EngineError:
    return EngineError("invalid_face_identity", f"the saved face data is unusable: {why}")


@dataclass(frozen=True, eq=False)
class FaceIdentity:
    """A saved face; ``to_bytes``/``from_bytes`` give a compact, pickle-free form."""

    landmarks: np.ndarray  # (68, 2) float, in ``crop`` coordinates
    crop: np.ndarray  # BGR uint8 crop around the face, <= CROP_MAX_SIDE px a side
    descriptor: np.ndarray  # (128,) float32 dlib descriptor

    def to_bytes(self) -> bytes:
        """``MAGIC``, then float32 landmarks and descriptor, then the crop as JPEG.

        A fixed layout instead of an .npz archive: reading it back is a slice
        and one small JPEG decode (an archive's zip handling alone costs ~1 ms,
        a noticeable part of what a saved face is meant to save).
        """
        ok, jpeg = cv2.imencode(".jpg", self.crop, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise _corrupt("the crop could not be encoded")
        landmarks = np.asarray(self.landmarks, "<f4").tobytes()
        descriptor = np.asarray(self.descriptor, "<f4").tobytes()
        return b"".join((MAGIC, landmarks, descriptor, jpeg.tobytes()))

    @classmethod
    def from_bytes(cls, data: bytes) -> FaceIdentity:
        if not isinstance(data, bytes | bytearray | memoryview) or data[: len(MAGIC)] != MAGIC:
            raise _corrupt("not a saved face (or from an unknown version)")
        if len(data) <= _JPEG_AT:
            raise _corrupt("truncated")
        numbers = np.frombuffer(data, "<f4", count=_NUMBERS, offset=len(MAGIC))
        jpeg = np.frombuffer(data, np.uint8, offset=_JPEG_AT)
        crop = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
        if crop is None:
            raise _corrupt("the crop does not decode")
        landmarks = numbers[: 2 * N_LANDMARKS].reshape(N_LANDMARKS, 2).astype(np.float64)
        return cls(landmarks, crop, numbers[2 * N_LANDMARKS :].copy())


# dlib's aligned chip is 150 px; faces much larger are shrunk (area-averaged)
# to about this size first, which is both faster and free of aliasing.
DESCRIPTOR_FACE_PX = 300.0


def face_descriptor(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """dlib's 128-d descriptor of the face with these landmarks in ``image`` (BGR).

    The one descriptor of the engine (stills, GIF frames, saved faces, the quality
    benchmark). The network aligns the face itself from the 68 points (detail
    points after them are ignored); only a crop around the face is converted.
    """
    crop, pts = _descriptor_crop(image, landmarks[:N_LANDMARKS])
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    rect = dlib.rectangle(int(x0), int(y0), int(x1), int(y1))
    parts = dlib.full_object_detection(rect, [dlib.point(int(x), int(y)) for x, y in pts])
    encoder = models.face_encoder()
    with _encoder_lock:  # dlib's network is not safe to call from two threads at once
        values = encoder.compute_face_descriptor(crop, parts)
    return np.asarray(values, dtype=np.float32)


def _descriptor_crop(image: np.ndarray, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A crop with generous margins (the model aligns the face itself), as RGB."""
    size = float(np.ptp(pts, axis=0).max())
    x0, y0 = np.maximum(0, np.floor(pts.min(axis=0) - size)).astype(int)
    x1, y1 = np.ceil(pts.max(axis=0) + size).astype(int)
    crop, pts = image[y0:y1, x0:x1], pts - (x0, y0)
    if size > DESCRIPTOR_FACE_PX:
        scale = DESCRIPTOR_FACE_PX / size
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        pts = (pts + 0.5) * scale - 0.5
    return np.ascontiguousarray(crop[..., ::-1]), pts  # the model was trained on RGB


def crop_face(image: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A copy of the region around the face (shrunk to CROP_MAX_SIDE at most)
    and the landmarks in its coordinates."""
    margin = CROP_MARGIN * face_size(landmarks)
    h, w = image.shape[:2]
    x0, y0 = np.maximum(0, np.floor(landmarks.min(axis=0) - margin)).astype(int)
    x1 = min(w, int(np.ceil(landmarks[:, 0].max() + margin)) + 1)
    y1 = min(h, int(np.ceil(landmarks[:, 1].max() + margin)) + 1)
    crop, points = image[y0:y1, x0:x1].copy(), landmarks - (x0, y0)
    scale = CROP_MAX_SIDE / max(crop.shape[:2])
    if scale < 1:
        size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
        # Pixel centres: x_small + 0.5 = (x + 0.5) * scale.
        points = (points + 0.5) * (size[0] / (x1 - x0), size[1] / (y1 - y0)) - 0.5
    return crop, points


def face_identity(image_bgr: np.ndarray, *, detect_pixels: int = WORK_PIXELS) -> FaceIdentity:
    """The identity of the one face in ``image_bgr``, ready to save.

    The photo must show exactly one face, fit to swap: no face raises
    NoFaceDetected("image"), several raise FaceCountMismatch, a cut-off or
    turned-away face raises FaceNotSwappable.
    """
    image = as_bgr(image_bgr, "image")
    boxes = find_face_boxes(image, detect_pixels)
    if not boxes:
        raise NoFaceDetected("image")
    if len(boxes) > 1:
        raise FaceCountMismatch(
            f"the photo shows {len(boxes)} faces; a saved face needs a photo with one face only",
            {"image": "image", "faces": len(boxes)},
        )
    landmarks = place_landmarks(image, boxes[0])
    check_swappable(landmarks, image.shape, "image", 0)
    crop, points = crop_face(image, landmarks)
    return FaceIdentity(points, crop, face_descriptor(image, landmarks))
