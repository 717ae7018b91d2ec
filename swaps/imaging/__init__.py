"""Recognise, check, decode and encode user-supplied images; the limits they all share.

Pure package: no Django. Every per-call limit is an argument so callers own policy; what
is set here is process-wide and has to be in place before any submodule imports OpenCV,
which is why it lives in the package's own module (always imported first).

* errors: ImageInputError, the one client-facing error type of the package;
* headers: format sniffing and dimensions from header bytes (no decoder involved);
* decoding: probe_image (request-time check) and decode_image (full decode);
* base64_input: images sent as base64 text or data URIs;
* encoding: encode_image, pixels to JPEG/PNG/WebP bytes with the provenance note;
* provenance: writing and reading that note in each container.
"""

from __future__ import annotations

import warnings

from PIL import Image

from faceswap_site.opencv_guard import MAX_DECODE_PIXELS

# Hard ceiling shared with OpenCV's guard; per-call max_pixels should be lower.
HARD_MAX_PIXELS = MAX_DECODE_PIXELS
Image.MAX_IMAGE_PIXELS = HARD_MAX_PIXELS
# Pillow only *warns* between 1x and 2x MAX_IMAGE_PIXELS; a warning is not a refusal.
warnings.simplefilter("error", Image.DecompressionBombWarning)

DEFAULT_FORMATS: frozenset[str] = frozenset({"jpeg", "png", "webp"})
# What the service accepts: GIF too (an animated target is swapped frame by frame by
# swaps.animated; anywhere else a GIF gives its first frame).
INPUT_FORMATS: frozenset[str] = DEFAULT_FORMATS | {"gif"}
