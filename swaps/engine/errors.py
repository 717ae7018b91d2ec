"""Typed engine errors with stable machine-readable codes.

The web layer maps ``code`` to API responses, so codes are part of the public
contract: add new ones, never rename existing ones.
"""

from __future__ import annotations

from typing import Any

from faceswap_site.codes import CodedError


class EngineError(CodedError):
    """Base class of every error the engine raises on purpose."""

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class InvalidImageFormat(EngineError):
    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__("invalid_image_format", message, details)


class NoFaceDetected(EngineError):
    def __init__(self, image: str) -> None:
        super().__init__(
            "no_face_detected", f"no face found in the {image} image", {"image": image}
        )


class FaceIndexOutOfRange(EngineError):
    def __init__(self, image: str, index: int, faces: int) -> None:
        super().__init__(
            "face_index_out_of_range",
            f"face index {index} is out of range for the {image} image ({faces} faces found)",
            {"image": image, "index": index, "faces": faces},
        )


class FaceCountMismatch(EngineError):
    """The faces asked for cannot be paired (e.g. 2 source faces into 3 target
    faces), or a photo that must show one face shows several."""

    def __init__(self, message: str, details: dict[str, Any]) -> None:
        super().__init__("face_count_mismatch", message, details)


# Why a face cannot be swapped well, as said to the user.
NOT_SWAPPABLE_REASONS = {
    "cut_off": "is cut off by the image border; use a photo showing the whole face",
    "turned_away": "is turned too far away from the camera; use a more frontal photo",
    "too_small": "is too small to swap; use a larger photo of the face",
}


class FaceNotSwappable(EngineError):
    """A detected face that would give a broken picture if swapped."""

    def __init__(self, image: str, index: int, reason: str) -> None:
        super().__init__(
            "face_not_swappable",
            f"face {index} of the {image} image {NOT_SWAPPABLE_REASONS[reason]}",
            {"image": image, "index": index, "reason": reason},
        )
