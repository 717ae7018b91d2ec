"""Process-wide, lazily loaded face models, each checked against its sha256.

- YuNet-s (face boxes and 5 points), ``weights/yunet_s_dynamic.onnx``, on
  onnxruntime: Apache-2.0, trained on WIDER FACE.
- MediaPipe Face Mesh v1 (468 points), ``weights/face_landmark.tflite``, on
  LiteRT: Apache-2.0.
- MediaPipe's palm detector and hand landmarks (lite), ``weights/palm_detection_lite.tflite``
  and ``weights/hand_landmark_lite.tflite``, on LiteRT: Apache-2.0; hands
  in front of a target's face (``hands``).
- dlib's ResNet face descriptor (128-d), from the face-recognition-models
  package: public domain; used for reference matching and quality checks.

Every model is loaded at most once per process and shared. A weights file
whose checksum differs stops the caller with ``models_unavailable``: a worker
must never swap with a model nobody reviewed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import texture
from .errors import EngineError

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
MODELS_DIR_ENV = "SWAPS_ENGINE_MODELS_DIR"  # where dlib's descriptor model lives
FACE_RECOGNITION = "dlib_face_recognition_resnet_model_v1.dat"
YUNET = "yunet_s_dynamic.onnx"
FACE_MESH = "face_landmark.tflite"
PALM_DETECTOR = "palm_detection_lite.tflite"
HAND_LANDMARKS = "hand_landmark_lite.tflite"
SHA256 = {
    YUNET: "daede24002cc8590f457998cc5e6c9e8b82f45f6bd969506a8913cd4ed10a2d3",
    FACE_MESH: "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814",
    PALM_DETECTOR: "e9a4aaddf90dda56a87235303cf00e4c2d3fb28725f68fd88772997dac905c18",
    HAND_LANDMARKS: "048edd3645c9bf7397d19a9f6e3a42957d6e414c9bea6598030a2e9b624156e6",
}

_load_lock = threading.RLock()
# A LiteRT interpreter holds its tensors: one inference at a time per process.
mesh_lock = threading.Lock()
palm_lock = threading.Lock()
hand_lock = threading.Lock()
_cache: dict[str, Any] = {}


def verified_weights(name: str, folder: Path = WEIGHTS_DIR) -> bytes:
    """The bytes of a vendored model file, after checking its sha256."""
    path = folder / name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EngineError(
            "models_unavailable", f"model file {name} not found", {"path": str(path)}
        ) from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256[name]:
        raise EngineError(
            "models_unavailable",
            f"model file {name} has sha256 {digest}, expected {SHA256[name]}: "
            "the file was changed or damaged; restore it from the repository",
            {"path": str(path)},
        )
    return data


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


def _load_yunet() -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    # One worker per core: the network's own threads would only fight it.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(
        verified_weights(YUNET), options, providers=["CPUExecutionProvider"]
    )


def _load_litert(name: str) -> Any:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=verified_weights(name), num_threads=1)
    interpreter.allocate_tensors()
    return interpreter


def face_detector() -> Any:
    """YuNet-s as an onnxruntime session (its ``run`` is thread-safe)."""
    return _cached("yunet", _load_yunet)


def face_mesh() -> Any:
    """The Face Mesh LiteRT interpreter; call it while holding ``mesh_lock``."""
    return _cached("mesh", lambda: _load_litert(FACE_MESH))


def palm_detector() -> Any:
    """The palm detector's LiteRT interpreter; call it while holding ``palm_lock``."""
    return _cached("palm", lambda: _load_litert(PALM_DETECTOR))


def hand_landmarker() -> Any:
    """The hand landmarks' LiteRT interpreter; call it while holding ``hand_lock``."""
    return _cached("hand", lambda: _load_litert(HAND_LANDMARKS))


def face_encoder() -> Any:
    """dlib's ResNet face descriptor model: reference matching and quality checks."""
    import dlib

    return _cached(
        "encoder", lambda: dlib.face_recognition_model_v1(str(model_path(FACE_RECOGNITION)))
    )


def warm_up() -> None:
    """Load (and check) the models a swap needs, and make the grain's noise field
    (``texture``, ~35 ms), so the first request does not pay for them."""
    face_detector()
    face_mesh()
    palm_detector()
    hand_landmarker()
    texture.warm_up()
