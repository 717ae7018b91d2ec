"""OpenCV's decompression-bomb guard, in one place.

OpenCV reads OPENCV_IO_MAX_IMAGE_PIXELS once, when its image codecs initialise, so every
module that imports cv2 imports this first. Pure Python: the engine and the image code
use it without Django. The ceiling is MAX_IMAGE_PIXELS (the setting of that name reads
the same variable), 100 MP by default.
"""

from __future__ import annotations

import os

MAX_DECODE_PIXELS = int(os.environ.get("MAX_IMAGE_PIXELS") or 100_000_000)
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_DECODE_PIXELS))
