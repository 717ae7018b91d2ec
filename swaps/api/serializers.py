"""Shapes of the swap API: what a create request may hold, what a job looks like."""

from __future__ import annotations

import base64
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from swaps.models import JobStatus, SwapJob
from swaps.services import OUTPUT_FORMATS, SwapOptions
from swaps.signing import result_path
from swaps.webhooks import check_webhook_url

# Contract fields that later releases implement; refusing beats silently ignoring them.
NOT_YET_SUPPORTED = ("reference_image", "source_face_id")


@extend_schema_field(OpenApiTypes.BINARY)
class ImageValueField(serializers.Field):
    """A file part, or a string holding an http(s) URL, a data: URI or bare base64."""

    default_error_messages = {
        "invalid": "Send a file, an http(s) URL, a data:image/...;base64 URI or base64 text.",
        "many": "Only one image is accepted here in this version.",
    }

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


@extend_schema_field({"type": "string", "example": "0",
                      "description": "Face index, 0 = the largest face."})
class FaceIndexField(serializers.Field):
    default_error_messages = {
        "invalid": "A face index is a non-negative integer (0 is the largest face).",
        "single": "This version swaps one face: give a single index (lists and 'all' come later).",
    }

    def to_internal_value(self, data: Any) -> int:
        text = str(data).strip()
        if "," in text or text.lower() == "all":
            self.fail("single")
        if not text.isdigit() or int(text) > 1000:
            self.fail("invalid")
        return int(text)

    def to_representation(self, value: int) -> str:
        return str(value)


class SwapCreateSerializer(serializers.Serializer):
    target_image = ImageValueField(help_text="The photo whose face changes.")
    source_image = ImageValueField(help_text="The photo giving the face.")
    source_faces_index = FaceIndexField(required=False, default=0)
    target_faces_index = FaceIndexField(required=False, default=0)
    output_format = serializers.ChoiceField(choices=OUTPUT_FORMATS, required=False)
    return_base64 = serializers.BooleanField(required=False, default=False)
    enhance = serializers.BooleanField(required=False, default=False)
    watermark = serializers.BooleanField(
        required=False, allow_null=True, default=None,
        help_text="Visible 'AI face swap' mark; default: your plan's setting (Free: on).")
    client_reference = serializers.CharField(required=False, default="", allow_blank=True,
                                             max_length=1024, trim_whitespace=False)
    webhook_url = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=2048,
        help_text="http(s) URL (ports 80/443, public addresses only) that receives the "
                  "final job object as a signed POST; refused with 400 url_not_allowed.")

    def validate_webhook_url(self, value: str) -> str:
        if value:
            check_webhook_url(value)  # UrlError: 400 url_not_allowed, before any charge
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        data = self.initial_data
        getlist = getattr(data, "getlist", None)
        if getlist and len(getlist("source_image")) > 1:
            raise serializers.ValidationError({"source_image": ImageValueField.
                                               default_error_messages["many"]})
        unsupported = [name for name in NOT_YET_SUPPORTED if name in data]
        unsupported += [name for name in ("enhance",) if attrs.get(name)]
        if unsupported:
            raise serializers.ValidationError(
                {name: "Not supported by this version yet." for name in unsupported})
        return attrs

    def to_options(self) -> SwapOptions:
        data = self.validated_data
        return SwapOptions(
            source_face=data["source_faces_index"], target_face=data["target_faces_index"],
            output_format=data.get("output_format"), return_base64=data["return_base64"],
            client_reference=data["client_reference"], watermark=data["watermark"],
            webhook_url=data["webhook_url"],
        )


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField()


class ErrorEnvelopeSerializer(serializers.Serializer):
    success = serializers.BooleanField(default=False)
    error = ErrorSerializer()
    request_id = serializers.CharField()


class FacesSerializer(serializers.Serializer):
    source = serializers.IntegerField()
    target = serializers.IntegerField()
    swapped = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()))


class SwapJobSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=JobStatus.choices)
    result_url = serializers.SerializerMethodField()
    result_expires_at = serializers.DateTimeField(read_only=True, allow_null=True)
    result_base64 = serializers.SerializerMethodField()
    faces = FacesSerializer(allow_null=True)
    error = serializers.SerializerMethodField()

    class Meta:
        model = SwapJob
        fields = ["id", "status", "created_at", "completed_at", "processing_ms", "cost",
                  "result_url", "result_expires_at", "result_base64", "faces", "error",
                  "client_reference"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_result_url(self, job: SwapJob) -> str | None:
        path = result_path(job)
        request = self.context.get("request")
        if path is None or request is None:
            return path
        return request.build_absolute_uri(path)

    @extend_schema_field(OpenApiTypes.STR)
    def get_result_base64(self, job: SwapJob) -> str | None:
        if not (job.return_base64 and job.status == JobStatus.COMPLETED and job.result):
            return None
        with job.result.open("rb") as handle:
            return base64.b64encode(handle.read()).decode("ascii")

    @extend_schema_field(ErrorSerializer(allow_null=True))
    def get_error(self, job: SwapJob) -> dict[str, Any] | None:
        if job.status != JobStatus.FAILED:
            return None
        return {"code": job.error_code, "message": job.error_message,
                "details": job.error_details}
