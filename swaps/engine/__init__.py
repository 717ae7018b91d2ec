"""Face-swap engine: pure numpy/OpenCV/dlib, no Django.

from swaps.engine import swap_faces, face_identity, FaceIdentity, detect_faces, warm_up
result = swap_faces(target_bgr, sources=[source_bgr], target_indices="all")
result.image, result.faces, result.timings_ms
saved = face_identity(photo_bgr).to_bytes()  # later: identities=[FaceIdentity.from_bytes(saved)]
swap(source_bgr, target_bgr, source_face=0, target_face=0)  # the one-face form
"""

# OpenCV's decompression-bomb guard must be set before cv2 is first imported.
import faceswap_site.opencv_guard  # noqa: F401, I001

from .animation import AnimationResult, swap_animation  # noqa: E402
from .checks import unswappable_reason  # noqa: E402
from .detect import Face, detect_faces  # noqa: E402
from .errors import (  # noqa: E402
    EngineError,
    FaceCountMismatch,
    FaceIndexOutOfRange,
    FaceNotSwappable,
    InvalidImageFormat,
    NoFaceDetected,
)
from .identity import FaceIdentity, face_descriptor, face_identity  # noqa: E402
from .models import warm_up  # noqa: E402
from .multi import PreparedSources, prepare_sources, swap, swap_faces  # noqa: E402
from .options import SwapOptions  # noqa: E402
from .pipeline import SwapResult  # noqa: E402
from .select import parse_indices  # noqa: E402
from .trade_off import DEFAULT_LIKENESS  # noqa: E402


def set_threads(count: int) -> None:
    """OpenCV's thread pool size for this process."""
    import cv2

    cv2.setNumThreads(count)


__all__ = [
    "DEFAULT_LIKENESS",
    "AnimationResult",
    "EngineError",
    "Face",
    "FaceCountMismatch",
    "FaceIdentity",
    "FaceIndexOutOfRange",
    "FaceNotSwappable",
    "InvalidImageFormat",
    "NoFaceDetected",
    "PreparedSources",
    "SwapOptions",
    "SwapResult",
    "detect_faces",
    "face_descriptor",
    "face_identity",
    "parse_indices",
    "set_threads",
    "prepare_sources",
    "swap",
    "swap_animation",
    "swap_faces",
    "unswappable_reason",
    "warm_up",
]
