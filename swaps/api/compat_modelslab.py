"""ModelsLab deepfake: `POST /api/v6/deepfake/single_face_swap` and
`POST /api/v6/deepfake/fetch/{id}`.

Clients change only the base URL (https://modelslab.com -> this server) and the `key`
in their JSON bodies. One job per request, made and charged as POST /api/v1/swaps makes
it; `watermark` defaults to true here, as on ModelsLab. The answer waits a short time
(MODELSLAB_WAIT_S, or `Prefer: wait=N`) for the job: `{"status": "success", "output":
[url], ...}` if it ended, else `{"status": "processing", "fetch_result", "future_links",
...}` to fetch later. Bodies are swaps.compat_bodies.modelslab_body; the webhook gets
the same body plus `track_id`. Errors are `{"status": "error", "message": ...}`.
"""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authentication import BodyKeyAuthentication
from swaps import compat_bodies, waiting
from swaps.api.compat_sync import JobRouteView
from swaps.api.fields import ImageValueField
from swaps.api.schema import KEY_IN_HEADER_OR_BODY, PREFER_WAIT
from swaps.models import SwapJob
from swaps.specs import NamedImage, SwapOptions, SwapSpec
from swaps.webhook_urls import check_webhook_url

MODELSLAB_WAIT_S = 10  # the "short wait" before answering processing


class ModelsLabKeySerializer(serializers.Serializer):
    key = serializers.CharField(help_text="Your API key (the X-Api-Key header works too).")


class SingleFaceSwapSerializer(ModelsLabKeySerializer):
    key = serializers.CharField(required=False, help_text="Your API key (or X-Api-Key).")
    init_image = ImageValueField(help_text="The face to use: URL, base64 or a data: URI.")
    target_image = ImageValueField(help_text="The photo to change.")
    reference_image = ImageValueField(
        required=False,
        allow_null=True,
        help_text="Optional: change the target face most like the face in this photo.",
    )
    watermark = serializers.BooleanField(
        required=False, default=True, help_text="Visible mark; default true (as ModelsLab)."
    )
    webhook = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=2048,
        help_text="Receives the success body plus track_id as a signed POST.",
    )
    track_id = serializers.JSONField(required=False, allow_null=True, help_text="Echoed.")

    def validate_webhook(self, value: str | None) -> str:
        if value:
            check_webhook_url(value)
        return value or ""

    def validate_track_id(self, value: Any) -> Any:
        if not isinstance(value, str | int | type(None)) or len(str(value)) > 256:
            raise serializers.ValidationError("A string or number of at most 256 characters.")
        return value

    def to_spec(self) -> SwapSpec:
        data = self.validated_data
        reference = data.get("reference_image")
        said = {
            "service": compat_bodies.MODELSLAB,
            "track_id": data.get("track_id"),
            "reference_image": bool(reference),
        }
        return SwapSpec(
            target=NamedImage("target_image", data["target_image"]),
            sources=(NamedImage("init_image", data["init_image"]),),
            reference=NamedImage("reference_image", reference) if reference else None,
            options=SwapOptions(
                watermark=data["watermark"], webhook_url=data["webhook"], compat=said
            ),
        )


class ModelsLabResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["success", "processing", "error"])
    id = serializers.CharField()
    generationTime = serializers.FloatField(required=False)  # noqa: N815
    output = serializers.ListField(child=serializers.URLField(), required=False)
    proxy_links = serializers.ListField(child=serializers.URLField(), required=False)
    meta = serializers.DictField(required=False)
    eta = serializers.IntegerField(required=False)
    fetch_result = serializers.URLField(required=False)
    future_links = serializers.ListField(child=serializers.URLField(), required=False)
    message = serializers.CharField(required=False)
    track_id = serializers.JSONField(required=False)


class ModelsLabErrorSerializer(serializers.Serializer):
    status = serializers.CharField(default="error")
    message = serializers.CharField()


def modelslab_error(
    code: str, message: str, details: dict[str, Any], our_status: int
) -> tuple[int, dict[str, Any]]:
    fields = details.get("fields")
    if code == "invalid_parameter" and isinstance(fields, dict) and fields:
        name, problems = next(iter(fields.items()))
        first = problems[0] if isinstance(problems, list) and problems else problems
        message = f"{name}: {first}"
    return our_status, {"status": "error", "message": message}


def _errors(*statuses: int) -> dict[int, OpenApiResponse]:
    return {code: OpenApiResponse(ModelsLabErrorSerializer) for code in statuses}


class _ModelsLabView(JobRouteView):
    authentication_classes = [BodyKeyAuthentication]
    error_shape = staticmethod(modelslab_error)

    def body(self, job: SwapJob) -> dict[str, Any]:
        return compat_bodies.modelslab_body(job, base_url=self.request.build_absolute_uri("/"))


class SingleFaceSwapView(_ModelsLabView):
    """ModelsLab single_face_swap: the result if done within a short wait, else processing."""

    @extend_schema(
        summary="ModelsLab deepfake single_face_swap (compatible route)",
        tags=["compatible"],
        auth=KEY_IN_HEADER_OR_BODY,
        parameters=[PREFER_WAIT],
        request={"application/json": SingleFaceSwapSerializer},
        responses={200: ModelsLabResultSerializer, **_errors(400, 401, 402, 409, 422, 429)},
    )
    def post(self, request: Request) -> Any:
        form = SingleFaceSwapSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        (job_id,) = self.create_jobs(request, lambda: [form.to_spec()])
        asked = waiting.preferred_wait(request)
        return waiting.answer_when_done(
            request,
            Response(self.body(self.owned_job(job_id))),
            job_ids=[job_id],
            seconds=MODELSLAB_WAIT_S if asked is None else asked,
            finish=lambda: waiting.json_answer(
                self.body(self.owned_job(job_id)),
                headers=waiting.applied(asked) if asked is not None else None,
            ),
        )


class FetchView(_ModelsLabView):
    """ModelsLab fetch: the same shapes, for a job made by single_face_swap (or any)."""

    creates_work = False  # a read, sent as POST

    @extend_schema(
        summary="ModelsLab deepfake fetch (compatible route)",
        tags=["compatible"],
        auth=KEY_IN_HEADER_OR_BODY,
        request={"application/json": ModelsLabKeySerializer},
        responses={200: ModelsLabResultSerializer, **_errors(400, 401, 404, 429)},
    )
    def post(self, request: Request, job_id: str) -> Response:
        try:
            pk = uuid.UUID(job_id)
        except ValueError:
            pk = None  # their clients get their 404 body, not our envelope
        job = SwapJob.objects.owned_by(request.auth.account).filter(pk=pk).first() if pk else None
        if job is None:
            return Response({"status": "error", "message": "No job with this id."}, status=404)
        return Response(self.body(job))
