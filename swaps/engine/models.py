"""Process-wide, lazily loaded dlib models.

Loading is slow (about 1 s for the HOG detector, 1 s for the 68-point
predictor), so every model is loaded at most once per process and shared.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dlib

from .errors import EngineError

MODELS_DIR_ENV = "SWAPS_ENGINE_MODELS_DIR"
LANDMARKS_68 = "shape_predictor_68_face_landmarks.dat"
FACE_RECOGNITION = "dlib_face_recognition_resnet_model_v1.dat"

_load_lock = threading.Lock()
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


def face_detector() -> Any:
    """dlib's HOG frontal face detector; call it while holding ``detector_lock``."""
    return _cached("detector", dlib.get_frontal_face_detector)


def landmark_predictor() -> Any:
    return _cached("landmarks68", lambda: dlib.shape_predictor(str(model_path(LANDMARKS_68))))


def face_encoder() -> Any:
    """dlib's ResNet face descriptor model; used by quality checks, not by swapping."""
    return _cached(
        "encoder", lambda: dlib.face_recognition_model_v1(str(model_path(FACE_RECOGNITION)))
    )


def warm_up() -> None:
    """Load the models a swap needs, so the first request does not pay for it."""
    face_detector()
    landmark_predictor()
