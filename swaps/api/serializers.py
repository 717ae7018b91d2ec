"""Shapes of the swap API: what a create request may hold, what a job looks like."""

from __future__ import annotations

import base64
import math
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from swaps.api.fields import (
    FaceIndexListField,
    ImageListField,
    ImageValueField,
    SavedFaceIdsField,
    StrictFloatField,
    blank_fields,
)
from swaps.engine import DEFAULT_LIKENESS
from swaps.models import JobStatus, SwapJob
from swaps.signing import result_path
from swaps.specs import MAX_SOURCES, OUTPUT_FORMATS, NamedImage, SwapOptions, SwapSpec
from swaps.webhook_urls import check_webhook_url


class SwapCreateSerializer(serializers.Serializer):
    target_image = ImageValueField(help_text="The photo whose face(s) change.")
    source_image = ImageListField(
        required=False,
        max_items=MAX_SOURCES,
        help_text="The photo(s) giving the face(s): up to 4 (repeat the part, or a JSON "
        "array); their faces are numbered together, image by image, largest first. "
        "Omitted (and no source_face_id): the target's own faces swap.",
    )
    source_face_id = SavedFaceIdsField(
        required=False,
        max_items=MAX_SOURCES,
        help_text="A saved face (POST /api/v1/faces) instead of source_image; up to 4.",
    )
    source_faces_index = FaceIndexListField(
        required=False, allow_all=False, help_text='"0" (default) or a comma list "0,1".'
    )
    target_faces_index = FaceIndexListField(
        required=False,
        allow_all=True,
        unique=True,
        help_text='"0" (default), a comma list "1,0", or "all". Source face k goes into '
        "target face k; one source index with several target indices puts it in "
        "each.",
    )
    reference_image = ImageValueField(
        required=False,
        help_text="Instead of target_faces_index: change the target face "
        "most like the face in this photo.",
    )
    output_format = serializers.ChoiceField(choices=OUTPUT_FORMATS, required=False)
    return_base64 = serializers.BooleanField(required=False, default=False)
    enhance = serializers.BooleanField(
        required=False, default=False, help_text="Sharpen and restore detail of the swapped face."
    )
    keep_hands = serializers.BooleanField(
        required=False,
        default=False,
        help_text="A hand in front of a target face stays in front of the new face "
        "(a hand detector runs on each target face: slower).",
    )
    likeness = StrictFloatField(
        required=False,
        allow_null=True,
        default=None,
        min_value=0.0,
        max_value=1.0,
        help_text=f"0..1, default {DEFAULT_LIKENESS}: how much of the source face is kept "
        "beyond its features (face shape, skin colour, how far the blend reaches). Lower "
        "fits the target photo more closely, higher looks more like the source.",
    )
    watermark = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Visible 'AI face swap' mark; default: your plan's setting (Free: on).",
    )
    client_reference = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=1024, trim_whitespace=False
    )
    webhook_url = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=2048,
        help_text="http(s) URL (ports 80/443, public addresses only) that receives the "
        "final job object as a signed POST; refused with 400 url_not_allowed.",
    )
    consent = serializers.BooleanField(
        required=False,
        default=False,
        help_text="true: you have the right to use these photos and the consent of the "
        "people in them (stored with the job).",
    )

    # Options whose empty value would otherwise silently mean "the default".
    NOT_EMPTY = (
        "source_faces_index",
        "target_faces_index",
        "likeness",
        "output_format",
        "return_base64",
        "enhance",
        "keep_hands",
        "watermark",
        "source_face_id",
    )

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        blank = blank_fields(data, self.NOT_EMPTY)
        if blank:
            raise serializers.ValidationError(blank)
        return super().to_internal_value(data)

    def validate_likeness(self, value: float | None) -> float | None:
        if value is not None and math.isnan(value):
            raise serializers.ValidationError("A number between 0 and 1 is required.")
        return value

    def validate_webhook_url(self, value: str) -> str:
        if value:
            check_webhook_url(value)  # UrlError: 400 url_not_allowed, before any charge
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, str] = {}
        if attrs.get("source_image") and attrs.get("source_face_id"):
            errors["source_face_id"] = "Give source_image or source_face_id, not both."
        if attrs.get("reference_image") and "target_faces_index" in attrs:
            errors["reference_image"] = (
                "reference_image chooses the target face: do not send target_faces_index with it."
            )
        if not _pairable(attrs.get("source_faces_index"), attrs.get("target_faces_index")):
            errors["target_faces_index"] = (
                "Source face k goes into target face k: give as "
                "many target indices as source indices, or one "
                "source index."
            )
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def to_options(self) -> SwapOptions:
        data = self.validated_data
        return SwapOptions(
            source_faces=data.get("source_faces_index"),
            target_faces=data.get("target_faces_index"),
            enhance=data["enhance"],
            keep_hands=data["keep_hands"],
            likeness=data["likeness"],
            output_format=data.get("output_format"),
            return_base64=data["return_base64"],
            client_reference=data["client_reference"],
            watermark=data["watermark"],
            webhook_url=data["webhook_url"],
            consent=data["consent"],
        )

    def to_spec(self) -> SwapSpec:
        data = self.validated_data
        reference = data.get("reference_image")
        return SwapSpec(
            target=NamedImage("target_image", data["target_image"]),
            sources=tuple(
                NamedImage("source_image", value) for value in data.get("source_image", ())
            ),
            reference=NamedImage("reference_image", reference) if reference else None,
            face_ids=data.get("source_face_id", ()),
            options=self.to_options(),
        )


def _pairable(sources: tuple[int, ...] | None, targets: tuple[int, ...] | str | None) -> bool:
    """False when both lists are explicit and cannot be paired (caught before any charge)."""
    if sources is None or not isinstance(targets, tuple) or len(sources) == 1:
        return True
    return len(sources) == len(targets)


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField()


class ErrorEnvelopeSerializer(serializers.Serializer):
    success = serializers.BooleanField(default=False)
    error = ErrorSerializer()
    request_id = serializers.CharField()


class ReferenceMatchSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The target face chosen.")
    distance = serializers.FloatField(help_text="Its descriptor distance to the reference.")


class FaceWarningSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable: `source_face_enlarged`.")
    source = serializers.IntegerField(help_text="The source face concerned.")
    target = serializers.IntegerField(help_text="The target face concerned.")
    scale = serializers.FloatField(help_text="How many times the source face was enlarged.")
    message = serializers.CharField(help_text="What it means, in plain words.")


class FacesSerializer(serializers.Serializer):
    source = serializers.IntegerField(help_text="Faces found in the source(s).")
    target = serializers.IntegerField(help_text="Faces found in the target.")
    swapped = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="[source face, target face] pairs.",
    )
    reference = ReferenceMatchSerializer(
        required=False, help_text="With reference_image: the target face it chose."
    )
    frames = serializers.IntegerField(
        required=False, help_text="An animated GIF target: its frame count."
    )
    frames_swapped = serializers.IntegerField(
        required=False, help_text="An animated GIF target: frames in which a face was swapped."
    )
    warnings = FaceWarningSerializer(
        many=True,
        required=False,
        help_text="Only when there is one: a source face enlarged more than 4x (a soft result).",
    )


# Every field declared, the model's too: a ModelSerializer built its model fields again
# for every answer (~0.15 ms of CPU per request). The OpenAPI schema is the same.
class SwapJobSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    status = serializers.ChoiceField(choices=JobStatus.choices)
    created_at = serializers.DateTimeField(read_only=True)
    completed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    processing_ms = serializers.IntegerField(read_only=True, allow_null=True)
    cost = serializers.IntegerField(read_only=True)
    result_url = serializers.SerializerMethodField()
    result_expires_at = serializers.DateTimeField(read_only=True, allow_null=True)
    result_base64 = serializers.SerializerMethodField()
    faces = FacesSerializer(allow_null=True)
    error = serializers.SerializerMethodField()
    client_reference = serializers.CharField(read_only=True)
    consent = serializers.BooleanField(read_only=True)

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_result_url(self, job: SwapJob) -> str | None:
        path = result_path(job)
        request = self.context.get("request")
        if path is None or request is None:
            return path
        return request.build_absolute_uri(path)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_result_base64(self, job: SwapJob) -> str | None:
        if not (job.return_base64 and job.status == JobStatus.COMPLETED and job.result):
            return None
        with job.result.open("rb") as handle:
            return base64.b64encode(handle.read()).decode("ascii")

    @extend_schema_field(ErrorSerializer(allow_null=True))
    def get_error(self, job: SwapJob) -> dict[str, Any] | None:
        if job.status != JobStatus.FAILED:
            return None
        return {"code": job.error_code, "message": job.error_message, "details": job.error_details}
