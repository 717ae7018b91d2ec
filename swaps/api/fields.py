"""Request fields shared by the native and the compatible routes: images and face indices."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from swaps.specs import MAX_FACE_INDEX

MAX_INDICES = 16


def _repeated(field: serializers.Field, dictionary: Any) -> Any:
    """A repeated multipart part (or a JSON array) as one list; `empty` when absent."""
    if hasattr(dictionary, "getlist"):
        values = dictionary.getlist(field.field_name)
        return values if values else empty
    return dictionary.get(field.field_name, empty)


@extend_schema_field(OpenApiTypes.BINARY)
class ImageValueField(serializers.Field):
    """A file part, or a string holding an http(s) URL, a data: URI or bare base64."""

    default_error_messages = {
        "invalid": "Send a file, an http(s) URL, a data:image/...;base64 URI or base64 text.",
        "many": "Only one image is accepted here.",
    }

    def get_value(self, dictionary: Any) -> Any:
        values = _repeated(self, dictionary)
        if isinstance(values, list) and len(values) == 1 and hasattr(dictionary, "getlist"):
            return values[0]
        return values

    def to_internal_value(self, data: Any) -> UploadedFile | str:
        if isinstance(data, UploadedFile):
            return data
        if isinstance(data, list):
            self.fail("many")
        if isinstance(data, str) and data.strip():
            return data
        self.fail("invalid")

    def to_representation(self, value: Any) -> None:
        return None


@extend_schema_field(
    {"type": "array", "items": {"type": "string", "format": "binary"}, "maxItems": 4}
)
class ImageListField(serializers.Field):
    """One to `max_items` images: a repeated multipart part, a JSON array, or one value."""

    default_error_messages = {
        "empty": "Send at least one image.",
        "too_many": "At most {max_items} images are accepted here.",
    }

    def __init__(self, *, max_items: int, **kwargs: Any) -> None:
        self.max_items = max_items
        super().__init__(**kwargs)

    def get_value(self, dictionary: Any) -> Any:
        return _repeated(self, dictionary)

    def to_internal_value(self, data: Any) -> tuple[UploadedFile | str, ...]:
        values = data if isinstance(data, list) else [data]
        if not values:
            self.fail("empty")
        if len(values) > self.max_items:
            self.fail("too_many", max_items=self.max_items)
        return tuple(ImageValueField().to_internal_value(value) for value in values)

    def to_representation(self, value: Any) -> None:
        return None


@extend_schema_field(
    {
        "type": "string",
        "example": "0,1",
        "description": "A face index (0 = the largest face) or a comma list.",
    }
)
class FaceIndexListField(serializers.Field):
    """`"0"`, `"1,0"`, a JSON array or number, and (if allowed) `"all"`."""

    default_error_messages = {
        "invalid": "Face indices are non-negative integers (0 is the largest face), "
        'as one number or a comma list such as "0,1".',
        "all": "'all' is only accepted for target_faces_index.",
        "too_many": f"At most {MAX_INDICES} face indices are accepted.",
        "duplicate": "A target face can receive only one face: each index at most once.",
    }

    def __init__(self, *, allow_all: bool, unique: bool = False, **kwargs: Any) -> None:
        self.allow_all = allow_all
        self.unique = unique
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> tuple[int, ...] | str:
        if isinstance(data, str) and data.strip().lower() == "all":
            if not self.allow_all:
                self.fail("all")
            return "all"
        items = data if isinstance(data, list) else str(data).split(",")
        indices = tuple(self._index(item) for item in items)
        if not indices:
            self.fail("invalid")
        if len(indices) > MAX_INDICES:
            self.fail("too_many")
        if self.unique and len(set(indices)) != len(indices):
            self.fail("duplicate")
        return indices

    def _index(self, item: Any) -> int:
        if isinstance(item, bool):
            self.fail("invalid")
        text = str(item).strip()
        if not (text.isascii() and text.isdigit()) or int(text) > MAX_FACE_INDEX:
            self.fail("invalid")
        return int(text)

    def to_representation(self, value: Any) -> str:
        return value if isinstance(value, str) else ",".join(map(str, value))


@extend_schema_field(
    {"type": "array", "items": {"type": "string", "format": "uuid"}, "maxItems": 4}
)
class SavedFaceIdsField(serializers.Field):
    """Ids of the caller's saved faces: one, a repeated part, a JSON array or a comma list."""

    default_error_messages = {
        "invalid": "A saved face id is a UUID, as returned by POST /api/v1/faces.",
        "too_many": "At most {max_items} saved faces are accepted.",
    }

    def __init__(self, *, max_items: int, **kwargs: Any) -> None:
        self.max_items = max_items
        super().__init__(**kwargs)

    def get_value(self, dictionary: Any) -> Any:
        return _repeated(self, dictionary)

    def to_internal_value(self, data: Any) -> tuple[uuid.UUID, ...]:
        values = data if isinstance(data, list) else [data]
        items = [part for value in values for part in str(value).split(",")]
        if not items:
            self.fail("invalid")
        if len(items) > self.max_items:
            self.fail("too_many", max_items=self.max_items)
        try:
            return tuple(uuid.UUID(item.strip()) for item in items)
        except ValueError:
            self.fail("invalid")

    def to_representation(self, value: Any) -> list[str]:
        return [str(item) for item in value]


class StrictFloatField(serializers.FloatField):
    """A number: ``true``/``false`` are not 1.0 and 0.0."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


def blank_fields(data: Any, names: tuple[str, ...]) -> dict[str, list[str]]:
    """Errors for ``names`` sent empty (``likeness=``): DRF would quietly take the
    default for an optional field, and the client would never learn its value was lost."""
    getter = getattr(data, "get", None)
    if getter is None:
        return {}
    return {
        name: ["This field may not be empty: leave it out to use the default."]
        for name in names
        if getter(name) == ""
    }
