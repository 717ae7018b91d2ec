"""Face-swap engine: pure numpy/OpenCV/dlib, no Django.

from swaps.engine import swap, detect_faces, warm_up
result = swap(source_bgr, target_bgr, source_face=0, target_face=0)
result.image, result.faces, result.timings_ms
"""

import os

# Decompression-bomb guard for cv2.imdecode; it must be set before cv2 is first
# imported, which is why it precedes the imports below.
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(100_000_000))

from .animation import AnimationResult, swap_animation  # noqa: E402
from .detect import Face, detect_faces  # noqa: E402
from .errors import (  # noqa: E402
    EngineError,
    FaceIndexOutOfRange,
    InvalidImageFormat,
    NoFaceDetected,
)
from .models import warm_up  # noqa: E402
from .pipeline import SwapOptions, SwapResult, swap  # noqa: E402

__all__ = [
    "AnimationResult",
    "EngineError",
    "Face",
    "FaceIndexOutOfRange",
    "InvalidImageFormat",
    "NoFaceDetected",
    "SwapOptions",
    "SwapResult",
    "detect_faces",
    "swap",
    "swap_animation",
    "warm_up",
]
