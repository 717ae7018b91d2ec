"""Request-time reading of image fields: upload, URL or base64, checked before any job exists.

Every failure is a typed error with an API code (`invalid_image_format`,
`image_too_large`, `url_not_allowed`, `url_fetch_failed`); the image is fully decoded
later, by the worker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from swaps.imaging import INPUT_FORMATS
from swaps.imaging.base64_input import decode_base64_image
from swaps.imaging.decoding import ImageInfo, probe_image
from swaps.imaging.errors import ImageInputError
from swaps.net.fetch import fetch_url
from swaps.net.url_policy import FetchPolicy, UrlError

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True)
class ImageInput:
    data: bytes
    info: ImageInfo


def fetch_policy() -> FetchPolicy:
    """The production policy; tests replace this function to reach a local server."""
    return FetchPolicy(
        max_bytes=settings.MAX_IMAGE_BYTES,
        timeout_s=float(settings.URL_FETCH_TIMEOUT_S),
        max_redirects=settings.URL_FETCH_MAX_REDIRECTS,
    )


def read_image_input(value: UploadedFile | str, *, field: str) -> ImageInput:
    data = _read_bytes(value, field=field)
    info = probe_image(
        data,
        image=field,
        max_bytes=settings.MAX_IMAGE_BYTES,
        max_pixels=settings.MAX_IMAGE_PIXELS,
        allowed_formats=INPUT_FORMATS,
    )
    return ImageInput(data=data, info=info)


def _read_bytes(value: UploadedFile | str, *, field: str) -> bytes:
    if isinstance(value, UploadedFile):
        return _read_upload(value, field=field)
    text = value.strip()
    if text.lower().startswith(("http://", "https://")):
        try:
            return fetch_url(text, policy=fetch_policy())
        except (UrlError, ImageInputError) as exc:
            exc.details.setdefault("image", field)
            raise
    if _SCHEME.match(text):
        raise UrlError(
            "url_not_allowed", f"{field}: only http and https URLs are accepted.", {"image": field}
        )
    return decode_base64_image(text, image=field, max_bytes=settings.MAX_IMAGE_BYTES)


def _read_upload(upload: UploadedFile, *, field: str) -> bytes:
    limit = settings.MAX_IMAGE_BYTES
    if upload.size is not None and upload.size > limit:
        raise ImageInputError(
            "image_too_large",
            f"The {field} is {upload.size} bytes; the limit is {limit}.",
            {"image": field, "max_bytes": limit},
        )
    upload.seek(0)
    return upload.read(limit + 1)
