"""ImageInputError and the refusals every image check shares (same codes, same wording)."""

from __future__ import annotations

from typing import Any

from faceswap_site.codes import CodedError


class ImageInputError(CodedError):
    """A client-caused image problem; `code` is stable API, `message` is safe to show."""


def invalid_image(image: str) -> ImageInputError:
    message = f"{image}: not a valid JPEG, PNG, WebP or GIF image."
    return ImageInputError("invalid_image_format", message, {"image": image})


def too_many_pixels(
    image: str, width: int | None, height: int | None, max_pixels: int
) -> ImageInputError:
    details: dict[str, Any] = {"image": image, "max_pixels": max_pixels}
    if width is not None:
        details.update(width=width, height=height)
    message = f"{image}: too many pixels (limit {max_pixels})."
    return ImageInputError("image_too_large", message, details)


def too_many_bytes(image: str, max_bytes: int) -> ImageInputError:
    message = f"{image}: file too large (limit {max_bytes} bytes)."
    return ImageInputError("image_too_large", message, {"image": image, "max_bytes": max_bytes})
