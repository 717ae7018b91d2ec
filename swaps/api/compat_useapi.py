"""useapi.net InsightFaceSwap: `POST /v1/faceswap/swap`, blocking.

Clients change only the base URL (https://api.useapi.net -> this server) and their
token (`Authorization: Bearer`). `saveid_image` becomes a saved face named
`saveid_idname` (replacing an earlier one of that name, so native swaps can reuse it as
`source_face_id`); `swapid_image` is the target of one job, made and charged as
POST /api/v1/swaps makes it. The answer waits for the job's end (swaps.waiting): 200
with useapi's body (swaps.compat_bodies.useapi_body; `replyUrl` receives the same body).
Errors are `{"error": message, "code": status}`.
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from swaps import compat_bodies, faces, waiting
from swaps.api.compat_sync import SYNC_WAIT_S, JobRouteView
from swaps.api.fields import ImageValueField
from swaps.imaging.headers import sniff_format
from swaps.results import CONTENT_TYPES
from swaps.specs import NamedImage, SwapOptions, SwapSpec
from swaps.webhook_urls import check_webhook_url

REQUIRED = "Required param {name} is missing or empty"


class UseapiSwapSerializer(serializers.Serializer):
    saveid_image = ImageValueField(
        help_text="The face (a file; also an http(s) URL, a data: URI or base64)."
    )
    swapid_image = ImageValueField(help_text="The photo whose face changes.")
    saveid_idname = serializers.RegexField(
        r"^[A-Za-z0-9_-]{1,100}$",
        required=False,
        default="id",
        help_text="Name the face is saved under (replacing an earlier one); default id.",
    )
    swapid_idname = serializers.RegexField(
        r"^[A-Za-z0-9_-]{1,100}$", required=False, default="id", help_text="Echoed; default id."
    )
    channel = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=100, help_text="Echoed."
    )
    replyUrl = serializers.CharField(  # noqa: N815 (their field name)
        required=False,
        default="",
        allow_blank=True,
        max_length=1024,
        help_text="Receives the same body as a signed POST when the job ends.",
    )
    replyRef = serializers.CharField(  # noqa: N815 (their field name)
        required=False, default="", allow_blank=True, max_length=1024, help_text="Echoed."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("saveid_image", "swapid_image"):
            self.fields[name].error_messages["required"] = REQUIRED.format(name=name)
            self.fields[name].error_messages["invalid"] = REQUIRED.format(name=name)

    def validate_saveid_image(self, value: Any) -> Any:
        return _not_empty(value, "saveid_image")

    def validate_swapid_image(self, value: Any) -> Any:
        return _not_empty(value, "swapid_image")

    def validate_replyUrl(self, value: str) -> str:  # noqa: N802 (DRF names it after the field)
        if value:
            check_webhook_url(value)  # 400 url_not_allowed, before any work
        return value


def _not_empty(value: Any, name: str) -> Any:
    if isinstance(value, UploadedFile) and not value.size:
        raise serializers.ValidationError(REQUIRED.format(name=name))
    return value


class AttachmentSerializer(serializers.Serializer):
    url = serializers.URLField()
    proxy_url = serializers.URLField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    content_type = serializers.CharField()
    id = serializers.CharField()
    filename = serializers.CharField()
    size = serializers.IntegerField()


class ImageFactsSerializer(serializers.Serializer):
    size = serializers.IntegerField(allow_null=True, help_text="Of a file part; null otherwise.")
    type = serializers.CharField(allow_null=True)


class UseapiJobSerializer(serializers.Serializer):
    jobid = serializers.CharField()
    verb = serializers.CharField()
    status = serializers.ChoiceField(choices=["started", "completed", "failed"])
    created = serializers.CharField()
    updated = serializers.CharField()
    channel = serializers.CharField(allow_null=True)
    saveid_idname = serializers.CharField()
    saveid_image = ImageFactsSerializer()
    swapid_idname = serializers.CharField()
    swapid_image = ImageFactsSerializer()
    replyUrl = serializers.CharField(allow_null=True)  # noqa: N815
    replyRef = serializers.CharField(allow_null=True)  # noqa: N815
    content = serializers.CharField()
    attachments = AttachmentSerializer(many=True)
    code = serializers.IntegerField()
    error = serializers.CharField(required=False)


class UseapiErrorSerializer(serializers.Serializer):
    error = serializers.CharField()
    code = serializers.IntegerField()


def useapi_error(
    code: str, message: str, details: dict[str, Any], our_status: int
) -> tuple[int, dict[str, Any]]:
    their_status = our_status
    fields = details.get("fields")
    if code == "invalid_parameter" and isinstance(fields, dict) and fields:
        name, problems = next(iter(fields.items()))
        message = str(problems[0] if isinstance(problems, list) and problems else problems)
        if not message.startswith("Required param"):
            message = f"{name}: {message}"
    return their_status, {"error": message, "code": their_status}


def _facts(value: Any) -> dict[str, Any]:
    """Size and type of a file part (the type recognised from its bytes, not as declared)."""
    if not isinstance(value, UploadedFile):
        return {"size": None, "type": None}
    value.seek(0)
    found = sniff_format(value.read(64))
    value.seek(0)
    return {"size": value.size, "type": CONTENT_TYPES.get(found or "", value.content_type)}


class UseapiFaceSwapView(JobRouteView):
    """useapi InsightFaceSwap faceswap/swap, blocking: the finished job."""

    error_shape = staticmethod(useapi_error)

    @extend_schema(
        summary="useapi InsightFaceSwap faceswap/swap (compatible route, blocking)",
        tags=["compatible"],
        request={
            "multipart/form-data": UseapiSwapSerializer,
            "application/json": UseapiSwapSerializer,
        },
        responses={
            200: UseapiJobSerializer,
            202: OpenApiResponse(
                UseapiJobSerializer, description=f"Still running after {SYNC_WAIT_S} s."
            ),
            **{code: OpenApiResponse(UseapiErrorSerializer) for code in (400, 401, 402, 429)},
        },
    )
    def post(self, request: Request) -> Any:
        form = UseapiSwapSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        (job_id,) = self.create_jobs(request, lambda: [self._spec(form.validated_data)])
        return waiting.answer_when_done(
            request,
            self._answer(job_id, status.HTTP_202_ACCEPTED),
            job_ids=[job_id],
            seconds=SYNC_WAIT_S,
            finish=lambda: self._answer(job_id, status.HTTP_200_OK, rendered=True),
        )

    def _spec(self, data: dict[str, Any]) -> SwapSpec:
        face = faces.replace_saved_face(
            account=self.request.auth.account,
            name=data["saveid_idname"],
            image=data["saveid_image"],
            field="saveid_image",
        )
        said = {
            "service": compat_bodies.USEAPI,
            "channel": data["channel"],
            "replyRef": data["replyRef"],
            "saveid_idname": data["saveid_idname"],
            "swapid_idname": data["swapid_idname"],
            "saveid_image": _facts(data["saveid_image"]),
            "swapid_image": _facts(data["swapid_image"]),
        }
        return SwapSpec(
            target=NamedImage("swapid_image", data["swapid_image"]),
            face_ids=(face.pk,),
            options=SwapOptions(webhook_url=data["replyUrl"], compat=said),
        )

    def _answer(self, job_id: str, code: int, *, rendered: bool = False) -> Any:
        body = compat_bodies.useapi_body(
            self.owned_job(job_id), base_url=self.request.build_absolute_uri("/")
        )
        if rendered:
            return waiting.json_answer(body, status=code)
        return Response(body, status=code)
