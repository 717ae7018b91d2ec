"""The swap-job API: create (202), list, status, delete, result bytes."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import FileResponse, HttpResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api import RateLimitedMixin
from accounts.idempotency import idempotent
from faceswap_site.errors import ApiError
from swaps import services, waiting
from swaps.api.schema import IDEMPOTENCY_KEY, PREFER_WAIT, error_responses
from swaps.api.serializers import SwapCreateSerializer, SwapJobSerializer
from swaps.models import JobStatus, SwapJob
from swaps.results import result_file_response

UUID_PATTERN = r"[0-9a-fA-F-]{32,36}"


@extend_schema_view(
    list=extend_schema(
        summary="List your swap jobs, newest first",
        responses={200: SwapJobSerializer(many=True), **error_responses(400, 401, 429)},
    ),
    retrieve=extend_schema(
        summary="Status of a swap job",
        responses={200: SwapJobSerializer, **error_responses(401, 404, 429)},
    ),
    destroy=extend_schema(
        summary="Erase a job's images and result",
        responses={204: None, **error_responses(401, 404, 429)},
    ),
)
class SwapJobViewSet(
    RateLimitedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Swap jobs: created at once (202), processed by a worker, polled by id."""

    serializer_class = SwapJobSerializer
    lookup_value_regex = UUID_PATTERN

    def get_queryset(self) -> QuerySet[SwapJob]:
        # No prefetch of the inputs: the job object does not show them, and erasing reads
        # its own rows; prefetching cost every GET a second query (~0.6 ms of CPU).
        return SwapJob.objects.owned_by(self.request.auth.account)

    @extend_schema(
        summary="Create a swap job",
        request={
            "multipart/form-data": SwapCreateSerializer,
            "application/json": SwapCreateSerializer,
        },
        parameters=[IDEMPOTENCY_KEY, PREFER_WAIT],
        responses={
            200: OpenApiResponse(
                SwapJobSerializer, description="With Prefer: wait=N, the job ended within N s."
            ),
            202: SwapJobSerializer,
            **error_responses(400, 401, 402, 404, 409, 413, 422, 429),
        },
    )
    def create(self, request: Request) -> Response:
        response = idempotent(
            request,
            account=request.auth.account,
            handler=lambda: self._create(request),
            replay=lambda ids: self._accepted(self.get_queryset().get(pk=ids[0])),
        )
        seconds = waiting.preferred_wait(request)
        if seconds is None:
            return response
        job_id = response.data.get("id") if response.status_code == 202 else None
        return waiting.answer_when_done(
            request,
            response,
            job_ids=[job_id] if job_id else [],
            seconds=seconds,
            finish=lambda: self._ended(job_id, seconds),
        )

    def _ended(self, job_id: str, seconds: int) -> HttpResponse:
        """The final job object (200), for a create that waited (Prefer: wait)."""
        job = self.get_queryset().get(pk=job_id)
        return waiting.json_answer(
            self.get_serializer(job).data,
            headers={
                "Location": reverse("api:swap-detail", args=[job.pk]),
                **waiting.applied(seconds),
            },
        )

    def _create(self, request: Request) -> Response:
        form = SwapCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        job = services.create_swap_job(
            account=request.auth.account, api_key=request.auth, spec=form.to_spec()
        )
        return self._accepted(job)

    def _accepted(self, job: SwapJob) -> Response:
        location = reverse("api:swap-detail", args=[job.pk])
        return Response(
            self.get_serializer(job).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": location},
        )

    def perform_destroy(self, instance: SwapJob) -> None:
        services.delete_swap_job(job=instance)

    @extend_schema(
        summary="The result image bytes",
        responses={
            (200, "image/*"): OpenApiResponse(description="The swapped image"),
            **error_responses(401, 404),
        },
    )
    @action(detail=True, methods=["get"])
    def result(self, request: Request, pk: str | None = None) -> FileResponse:
        job = self.get_object()
        if job.status != JobStatus.COMPLETED or not job.result:
            raise ApiError(
                "not_found",
                f"This job has no result (status: {job.status}).",
                {"status": job.status},
            )
        return result_file_response(job)
