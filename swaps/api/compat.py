"""Routes of other face-swap services, mapped onto our swap jobs.

Each request becomes one or two SwapSpecs for services.create_swap_jobs, the same
home as POST /api/v1/swaps: same key, rate limit, checks, credits, idempotency and
errors. Only the field names and the answer's shape differ.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import RateLimitedMixin
from accounts.idempotency import idempotent
from swaps import services, waiting
from swaps.api.fields import ImageValueField
from swaps.api.schema import IDEMPOTENCY_KEY, PREFER_WAIT, error_responses
from swaps.api.serializers import ErrorSerializer, SwapJobSerializer
from swaps.models import JobStatus, SwapJob
from swaps.specs import MAX_FACE_INDEX, NamedImage, SwapOptions, SwapSpec


def _status() -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=JobStatus.choices)


def _image(help_text: str) -> ImageValueField:
    return ImageValueField(help_text=f"{help_text} A file, an http(s) URL, a data: URI or base64.")


def _named(form: serializers.Serializer, name: str) -> NamedImage:
    return NamedImage(name, form.validated_data[name])


# --- Requests -------------------------------------------------------------------------


class BasicSwapSerializer(serializers.Serializer):
    srcimage = _image("The photo giving the face (its largest).")
    targetimage = _image("The photo whose largest face changes.")
    enhance = serializers.BooleanField(required=False, default=False)

    def to_specs(self) -> list[SwapSpec]:
        options = SwapOptions(enhance=self.validated_data["enhance"])
        return [
            SwapSpec(
                target=_named(self, "targetimage"),
                sources=(_named(self, "srcimage"),),
                options=options,
            )
        ]


class FaceSwap2Serializer(serializers.Serializer):
    srcimage = _image("The photo giving the face (its largest).")
    targetimage = _image("The photo whose face at swap_index changes.")
    swap_index = serializers.IntegerField(
        required=False,
        default=0,
        min_value=0,
        max_value=MAX_FACE_INDEX,
        help_text="The target face to change, 0 = the largest.",
    )

    def to_specs(self) -> list[SwapSpec]:
        options = SwapOptions(target_faces=(self.validated_data["swap_index"],))
        return [
            SwapSpec(
                target=_named(self, "targetimage"),
                sources=(_named(self, "srcimage"),),
                options=options,
            )
        ]


class Swap1From2Serializer(serializers.Serializer):
    srcimage = _image(
        "A photo with two faces: the larger goes into targetimage1, the other into targetimage2."
    )
    targetimage1 = _image("Gets the larger face of srcimage.")
    targetimage2 = _image("Gets the smaller face of srcimage.")

    def to_specs(self) -> list[SwapSpec]:
        source = _named(self, "srcimage")  # one value: read (or fetched) once for both jobs
        return [
            SwapSpec(
                target=_named(self, f"targetimage{k + 1}"),
                sources=(source,),
                options=SwapOptions(source_faces=(k,)),
            )
            for k in (0, 1)
        ]


class SwapSameImageSerializer(serializers.Serializer):
    srcimage = _image("A photo whose two largest faces swap with each other.")

    def to_specs(self) -> list[SwapSpec]:
        return [SwapSpec(target=_named(self, "srcimage"))]  # no source: its own faces swap


class FaceSwapJobCreateSerializer(serializers.Serializer):
    base_image_url = _image("The photo whose face changes.")
    selfie_url = _image("The photo giving the face.")

    def to_specs(self) -> list[SwapSpec]:
        return [
            SwapSpec(target=_named(self, "base_image_url"), sources=(_named(self, "selfie_url"),))
        ]


# --- Answers --------------------------------------------------------------------------


class TaskAcceptedSerializer(serializers.Serializer):
    task_id = serializers.UUIDField(help_text="Poll GET /api/task-status/{task_id}.")
    task_ids = serializers.ListField(
        child=serializers.UUIDField(), help_text="Every job the request made (swap1from2: two)."
    )
    status = _status()
    cost = serializers.IntegerField(help_text="Credits taken, all jobs together.")


class TaskStatusSerializer(serializers.Serializer):
    task_id = serializers.UUIDField()
    status = _status()
    image_url = serializers.URLField(
        allow_null=True, help_text="Signed result URL once completed, else null."
    )
    error = ErrorSerializer(allow_null=True)


class TaskStatusListSerializer(TaskStatusSerializer):
    tasks = TaskStatusSerializer(many=True, help_text="Every job the request made.")


class FaceSwapJobAcceptedSerializer(serializers.Serializer):
    reference_id = serializers.UUIDField()
    status = _status()
    message = serializers.CharField()


class FaceSwapJobStatusSerializer(serializers.Serializer):
    reference_id = serializers.UUIDField()
    status = _status()
    result_image_url = serializers.URLField(allow_null=True)
    processing_ms = serializers.IntegerField(allow_null=True)
    error = ErrorSerializer(allow_null=True)


def _job_view(request: Request, job: SwapJob) -> dict[str, Any]:
    """The native job object, the one place result URLs and errors are made."""
    return SwapJobSerializer(job, context={"request": request}).data


def _owned_job(request: Request, job_id: uuid.UUID) -> SwapJob:
    return get_object_or_404(SwapJob.objects.owned_by(request.auth.account), pk=job_id)


# --- Views ----------------------------------------------------------------------------


class _CreateJobsView(RateLimitedMixin, APIView):
    """POST: the form's specs become jobs (all or none), answered 202."""

    form_class: type[serializers.Serializer]

    def post(self, request: Request) -> Any:
        response = idempotent(
            request,
            account=request.auth.account,
            handler=lambda: self._create(request),
            replay=self._replay,
        )
        seconds = waiting.preferred_wait(request)
        if seconds is None or response.status_code != status.HTTP_202_ACCEPTED:
            return response
        ids = [str(job_id) for job_id in self.job_ids(response.data)]
        return waiting.answer_when_done(
            request,
            response,
            job_ids=ids,
            seconds=seconds,
            finish=lambda: self._ended(ids, seconds),
        )

    def _ended(self, ids: list[str], seconds: int) -> HttpResponse:
        """The final status (200) for a create that waited (Prefer: wait)."""
        found = SwapJob.objects.owned_by(self.request.auth.account).in_bulk(ids)
        jobs = [found[uuid.UUID(job_id)] for job_id in ids]
        return waiting.json_answer(self.ended_body(jobs), headers=waiting.applied(seconds))

    def job_ids(self, accepted: dict[str, Any]) -> list[Any]:
        return accepted["task_ids"]

    def ended_body(self, jobs: list[SwapJob]) -> dict[str, Any]:
        """The first job's task status, and every job's under `tasks` (swap1from2: two)."""
        tasks = [_task_status(self.request, job) for job in jobs]
        return {**tasks[0], "tasks": tasks}

    def _replay(self, ids: list[str]) -> Response:
        found = SwapJob.objects.owned_by(self.request.auth.account).in_bulk(ids)
        return self.accepted([found[uuid.UUID(job_id)] for job_id in ids])

    def _create(self, request: Request) -> Response:
        form = self.form_class(data=request.data)
        form.is_valid(raise_exception=True)
        jobs = services.create_swap_jobs(
            account=request.auth.account, api_key=request.auth, specs=form.to_specs()
        )
        return self.accepted(jobs)

    def accepted(self, jobs: list[SwapJob]) -> Response:
        body = {
            "task_id": jobs[0].pk,
            "task_ids": [job.pk for job in jobs],
            "status": jobs[0].status,
            "cost": sum(job.cost for job in jobs),
        }
        location = reverse("task-status", args=[jobs[0].pk])
        return Response(
            TaskAcceptedSerializer(body).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": location},
        )


def _create_schema(
    form: type[serializers.Serializer],
    summary: str,
    answer: type[serializers.Serializer] = TaskAcceptedSerializer,
    ended: type[serializers.Serializer] | None = None,
) -> Any:
    ended = ended or TaskStatusListSerializer
    return extend_schema(
        summary=summary,
        tags=["compatible"],
        parameters=[IDEMPOTENCY_KEY, PREFER_WAIT],
        request={"multipart/form-data": form, "application/json": form},
        responses={
            200: OpenApiResponse(
                ended, description="With Prefer: wait=N, the jobs ended within N s."
            ),
            202: answer,
            **error_responses(400, 401, 402, 409, 413, 422, 429),
        },
    )


@_create_schema(BasicSwapSerializer, "Swap the largest faces (compatible route)")
class BasicSwapView(_CreateJobsView):
    """The largest face of srcimage into the largest face of targetimage; 202 with task_id."""

    form_class = BasicSwapSerializer


@_create_schema(FaceSwap2Serializer, "Swap into the target face at swap_index (compatible route)")
class FaceSwap2View(_CreateJobsView):
    """The largest face of srcimage into face swap_index of targetimage."""

    form_class = FaceSwap2Serializer


@_create_schema(
    Swap1From2Serializer,
    "Two faces of one photo into two photos: two jobs, 2 credits (compatible route)",
)
class Swap1From2View(_CreateJobsView):
    """Two jobs from one request: face 0 of srcimage into targetimage1, face 1 into
    targetimage2. Costs 2 credits; answers task_id (the first) and task_ids (both)."""

    form_class = Swap1From2Serializer


@_create_schema(
    SwapSameImageSerializer, "Swap the two largest faces of one photo (compatible route)"
)
class SwapSameImageView(_CreateJobsView):
    """The two largest faces of srcimage swap with each other."""

    form_class = SwapSameImageSerializer


class TaskStatusView(RateLimitedMixin, APIView):
    """A task's status; image_url is the signed result URL once completed."""

    @extend_schema(
        summary="Status of a task (compatible route)",
        tags=["compatible"],
        responses={200: TaskStatusSerializer, **error_responses(401, 404, 429)},
    )
    def get(self, request: Request, task_id: uuid.UUID) -> Response:
        return Response(_task_status(request, _owned_job(request, task_id)))


def _task_status(request: Request, found: SwapJob) -> dict[str, Any]:
    job = _job_view(request, found)
    return TaskStatusSerializer(
        {
            "task_id": job["id"],
            "status": job["status"],
            "image_url": job["result_url"],
            "error": job["error"],
        }
    ).data


@_create_schema(
    FaceSwapJobCreateSerializer,
    "Create a face-swap job (compatible route)",
    answer=FaceSwapJobAcceptedSerializer,
    ended=FaceSwapJobStatusSerializer,
)
class FaceSwapJobCreateView(_CreateJobsView):
    """The face of selfie_url into base_image_url; 202 with reference_id."""

    form_class = FaceSwapJobCreateSerializer

    def job_ids(self, accepted: dict[str, Any]) -> list[Any]:
        return [accepted["reference_id"]]

    def ended_body(self, jobs: list[SwapJob]) -> dict[str, Any]:
        return _face_swap_job_status(self.request, jobs[0])

    def accepted(self, jobs: list[SwapJob]) -> Response:
        job = jobs[0]
        body = {
            "reference_id": job.pk,
            "status": job.status,
            "message": "Accepted: poll GET /api/v1/face-swap/jobs/{reference_id}.",
        }
        return Response(
            FaceSwapJobAcceptedSerializer(body).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": reverse("api:face-swap-job", args=[job.pk])},
        )


class FaceSwapJobView(RateLimitedMixin, APIView):
    """A face-swap job's status; result_image_url once completed."""

    @extend_schema(
        summary="Status of a face-swap job (compatible route)",
        tags=["compatible"],
        responses={200: FaceSwapJobStatusSerializer, **error_responses(401, 404, 429)},
    )
    def get(self, request: Request, reference_id: uuid.UUID) -> Response:
        return Response(_face_swap_job_status(request, _owned_job(request, reference_id)))


def _face_swap_job_status(request: Request, found: SwapJob) -> dict[str, Any]:
    job = _job_view(request, found)
    return FaceSwapJobStatusSerializer(
        {
            "reference_id": job["id"],
            "status": job["status"],
            "result_image_url": job["result_url"],
            "processing_ms": job["processing_ms"],
            "error": job["error"],
        }
    ).data
