"""Process-wide, lazily loaded dlib models.

Loading is slow (about 1 s for the HOG detector, 1 s for the 68-point
predictor), so every model is loaded at most once per process and shared.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dlib

from .errors import EngineError

logger = logging.getLogger(__name__)

MODELS_DIR_ENV = "SWAPS_ENGINE_MODELS_DIR"
LANDMARKS_68 = "shape_predictor_68_face_landmarks.dat"
FACE_RECOGNITION = "dlib_face_recognition_resnet_model_v1.dat"

_load_lock = threading.RLock()  # a factory may load another model
# The HOG detector keeps its scanner state between calls, so concurrent calls
# on one instance must not overlap; the shape predictor is stateless.
detector_lock = threading.Lock()
_cache: dict[str, Any] = {}


def models_dir() -> Path:
    override = os.environ.get(MODELS_DIR_ENV)
    if override:
        return Path(override)
    # find_spec locates the package without importing it: its __init__ pulls in
    # pkg_resources, which is slow and deprecated.
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise EngineError(
            "models_unavailable", "the face_recognition_models package is not installed"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def model_path(name: str) -> Path:
    path = models_dir() / name
    if not path.is_file():
        raise EngineError("models_unavailable", f"model file {name} not found", {"path": str(path)})
    return path


def _cached(key: str, factory: Callable[[], Any]) -> Any:
    model = _cache.get(key)
    if model is None:
        with _load_lock:
            model = _cache.get(key)
            if model is None:
                model = factory()
                _cache[key] = model
    return model


def face_detector(levels: int = 0) -> Any:
    """dlib's HOG frontal face detector; call it while holding ``detector_lock``.

    ``levels`` > 0 limits its image pyramid to that many levels (the largest
    ones), so a caller can scan a band of face sizes; 0 scans them all.
    """
    if levels <= 0:
        return _cached("detector", dlib.get_frontal_face_detector)
    return _cached(f"detector/{levels}", lambda: _detector_with_levels(levels))


# A serialised dlib fhog detector starts with these integers: object_detector
# version, scan_fhog_pyramid version, two empty members, cell size, padding,
# window width and height, then max_pyramid_levels (1000 = unlimited).
_DETECTOR_HEADER = (2, 1, 0, 0, 8, 0, 80, 80)


def _dlib_int(data: bytes, pos: int) -> tuple[int, int]:
    """One integer in dlib's serialisation: a length byte (bit 7 = sign), then
    that many little-endian bytes. Returns the value and the next position."""
    size = data[pos] & 0x7F
    value = int.from_bytes(data[pos + 1 : pos + 1 + size], "little")
    return (-value if data[pos] & 0x80 else value), pos + 1 + size


def with_max_levels(serialised: bytes, levels: int) -> bytes | None:
    """The serialised HOG detector with its pyramid limited to ``levels``,
    or None if the bytes are not laid out as expected."""
    pos = 0
    for expected in _DETECTOR_HEADER:
        value, pos = _dlib_int(serialised, pos)
        if value != expected:
            return None
    _, end = _dlib_int(serialised, pos)
    if not 0 < levels < 128:
        raise ValueError("levels must be in 1..127")
    return serialised[:pos] + bytes([1, levels]) + serialised[end:]


def _detector_with_levels(levels: int) -> Any:
    full = face_detector()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "detector.svm")
        full.save(path)
        with open(path, "rb") as fh:
            limited = with_max_levels(fh.read(), levels)
        if limited is None:
            # Still correct, only slower: the caller deduplicates across levels.
            logger.warning("unexpected dlib detector layout: pyramid levels not limited")
            return full
        with open(path, "wb") as fh:
            fh.write(limited)
        return dlib.fhog_object_detector(path)


def landmark_predictor() -> Any:
    return _cached("landmarks68", lambda: dlib.shape_predictor(str(model_path(LANDMARKS_68))))


def face_encoder() -> Any:
    """dlib's ResNet face descriptor model; used by quality checks, not by swapping."""
    return _cached(
        "encoder", lambda: dlib.face_recognition_model_v1(str(model_path(FACE_RECOGNITION)))
    )


def warm_up() -> None:
    """Load the models a swap needs, so the first request does not pay for it."""
    face_detector(1)  # detection scans one pyramid level at a time
    landmark_predictor()
