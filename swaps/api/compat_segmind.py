"""Segmind faceswap-v2: `POST /v1/models/faceswap-v2`, synchronous.

Clients change only the base URL (https://api.segmind.com -> this server) and their key
(`x-api-key`). One job, made and charged as POST /api/v1/swaps makes it; the answer waits
for its end (swaps.waiting: no thread under `manage.py serve`): 200 with the image bytes,
or with `base64: true` `{"image": "<base64>"}`. Errors are `{"error": message,
"error_code": code}` with Segmind's statuses: 406 for insufficient credits, 504 when the
job has not ended within SYNC_WAIT_S (it goes on: the body names it).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from swaps import waiting
from swaps.api.compat_sync import (
    SYNC_WAIT_S,
    JobRouteView,
    failure_status,
    result_base64,
    result_bytes,
)
from swaps.api.fields import FaceIndexListField, ImageValueField
from swaps.models import JobStatus
from swaps.results import CONTENT_TYPES
from swaps.specs import NamedImage, SwapOptions, SwapSpec

# Segmind's documented restorers (any of them: our enhance) and the ways to turn it off.
RESTORERS = ("codeformer-v0.1.0.pth", "GFPGANv1.4.pth", "GFPGANv1.3.pth")
NO_RESTORE = ("disable", "none")


class SegmindSwapSerializer(serializers.Serializer):
    source_img = ImageValueField(help_text="The face: an http(s) URL, base64 or a data: URI.")
    target_img = ImageValueField(help_text="The photo whose face(s) change (URL or base64).")
    input_faces_index = FaceIndexListField(
        allow_all=False,
        unique=True,
        required=False,
        default=(0,),
        help_text='Target faces, largest first: "0" (default) or a comma list "0,1".',
    )
    source_faces_index = FaceIndexListField(
        allow_all=False,
        required=False,
        default=(0,),
        help_text='Source faces: "0" (default) or a comma list.',
    )
    face_restore = serializers.ChoiceField(
        choices=[*RESTORERS, *NO_RESTORE],
        required=False,
        default=RESTORERS[0],
        help_text="Any restorer (the default) turns on our `enhance`; disable or none: off.",
    )
    base64 = serializers.BooleanField(
        required=False, default=False, help_text='true: answer {"image": base64} as JSON.'
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        sources, targets = attrs["source_faces_index"], attrs["input_faces_index"]
        if len(sources) > 1 and len(sources) != len(targets):
            raise serializers.ValidationError(
                {"input_faces_index": "Give as many input faces as source faces, or one source."}
            )
        return attrs

    def to_spec(self) -> SwapSpec:
        data = self.validated_data
        options = SwapOptions(
            source_faces=data["source_faces_index"],
            target_faces=data["input_faces_index"],
            enhance=data["face_restore"] in RESTORERS,
        )
        return SwapSpec(
            target=NamedImage("target_img", data["target_img"]),
            sources=(NamedImage("source_img", data["source_img"]),),
            options=options,
        )


class SegmindImageSerializer(serializers.Serializer):
    image = serializers.CharField(help_text="The result, base64.")


class SegmindErrorSerializer(serializers.Serializer):
    error = serializers.CharField()
    error_code = serializers.CharField(help_text="Our stable code (docs/api.md).")
    job_id = serializers.UUIDField(required=False, help_text="504: the job that goes on.")


def segmind_error(
    code: str, message: str, details: dict[str, Any], our_status: int
) -> tuple[int, dict[str, Any]]:
    # Their clients read 406 as "out of credits"; every other status is as ours.
    return 406 if our_status == 402 else our_status, {"error": message, "error_code": code}


class SegmindFaceSwapView(JobRouteView):
    """Segmind faceswap-v2, synchronous: the image when the swap is done."""

    error_shape = staticmethod(segmind_error)

    @extend_schema(
        summary="Segmind faceswap-v2 (compatible route, synchronous)",
        tags=["compatible"],
        request={
            "application/json": SegmindSwapSerializer,
            "multipart/form-data": SegmindSwapSerializer,
        },
        responses={
            (200, "image/*"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The swapped image (base64: false)"
            ),
            (200, "application/json"): SegmindImageSerializer,
            **{
                code: OpenApiResponse(SegmindErrorSerializer)
                for code in (400, 401, 406, 429, 500, 504)
            },
        },
    )
    def post(self, request: Request) -> Any:
        form = SegmindSwapSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        (job_id,) = self.create_jobs(request, lambda: [form.to_spec()])
        as_base64 = form.validated_data["base64"]
        late = Response(
            {
                "error": f"The swap did not finish within {SYNC_WAIT_S} s; it goes on as job "
                f"{job_id} (GET /api/v1/swaps/{job_id}).",
                "error_code": "timeout",
                "job_id": job_id,
            },
            status=status.HTTP_504_GATEWAY_TIMEOUT,
        )
        return waiting.answer_when_done(
            request,
            late,
            job_ids=[job_id],
            seconds=SYNC_WAIT_S,
            finish=lambda: self._ended(job_id, as_base64=as_base64),
        )

    def _ended(self, job_id: str, *, as_base64: bool) -> Any:
        job = self.owned_job(job_id)
        headers = {"X-Job-Id": str(job.pk)}
        if job.status != JobStatus.COMPLETED:
            return waiting.json_answer(
                {"error": job.error_message, "error_code": job.error_code},
                status=failure_status(job.error_code),
                headers=headers,
            )
        if as_base64:
            return waiting.json_answer({"image": result_base64(job)}, headers=headers)
        return waiting.bytes_answer(
            result_bytes(job),
            content_type=CONTENT_TYPES.get(job.output_format, "application/octet-stream"),
            headers=headers,
        )
