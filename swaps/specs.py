"""What a swap job asks for, as the API, the pages and the services all speak of it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from django.core.files.uploadedfile import UploadedFile

OUTPUT_FORMATS = ("jpeg", "png", "webp", "gif")
MAX_FACE_INDEX = 1000  # the highest face index a request may name
MAX_SOURCES = 4  # source photos, or saved faces, per job

ImageValue = UploadedFile | str
FaceIndices = tuple[int, ...]


@dataclass(frozen=True)
class SwapOptions:
    source_faces: FaceIndices | None = None  # None: the engine's default
    target_faces: FaceIndices | Literal["all"] | None = None  # None: the engine's default
    enhance: bool = False
    keep_hands: bool = False  # the target's hands in front of its face stay (slower)
    likeness: float | None = None  # None: the engine's default
    output_format: str | None = None  # None: the target's format
    return_base64: bool = False
    client_reference: str = ""
    watermark: bool | None = None  # None: the plan's default
    webhook_url: str = ""  # checked by swaps.webhook_urls.check_webhook_url
    # A compatible route's own fields, kept with the job so its answers and webhook body
    # can echo them (swaps.compat_bodies): {"service": ..., ...}.
    compat: dict[str, Any] | None = field(default=None, hash=False, compare=False)
    consent: bool = False  # the right to use the photos and the consent of those in them

    def as_json(self, *, plan_watermarks: bool) -> dict[str, Any]:
        watermark = plan_watermarks if self.watermark is None else self.watermark
        found = {
            "source_faces": _listed(self.source_faces),
            "target_faces": _listed(self.target_faces),
            "enhance": self.enhance,
            "keep_hands": self.keep_hands,
            "likeness": self.likeness,
            "watermark": watermark,
        }
        return {**found, "compat": self.compat} if self.compat else found


def _listed(indices: FaceIndices | str | None) -> list[int] | str | None:
    return list(indices) if isinstance(indices, tuple) else indices


@dataclass(frozen=True)
class NamedImage:
    """An image value as sent, with the request field it came in (named in errors)."""

    field: str
    value: ImageValue


@dataclass(frozen=True)
class SwapSpec:
    """One job as asked. No sources and no saved faces: the target's own faces swap."""

    target: NamedImage
    sources: tuple[NamedImage, ...] = ()
    reference: NamedImage | None = None
    face_ids: tuple[uuid.UUID, ...] = ()
    options: SwapOptions = field(default_factory=SwapOptions)
