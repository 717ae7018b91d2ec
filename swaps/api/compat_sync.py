"""What the Segmind, useapi and ModelsLab routes share: jobs made through the native
workflow (services.create_swap_jobs, with the same keys, limits, credits, idempotency and
checks), answered once they end (swaps.waiting), and errors in each service's own shape.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from typing import Any

from rest_framework import status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import RateLimitedMixin
from accounts.idempotency import idempotent
from faceswap_site.errors import api_exception_handler
from swaps import services
from swaps.api.serializers import SwapJobSerializer
from swaps.models import SwapJob
from swaps.runner import JOB_ERROR_CODES
from swaps.specs import SwapSpec
from swaps.waiting import MAX_WAIT_S

SYNC_WAIT_S = MAX_WAIT_S  # how long the synchronous routes wait for their job
# Failed jobs whose cause is the input (400 in the services' own terms); others are 500.
# The engine's input codes, plus a URL input the worker could not fetch.
INPUT_FAILURES = JOB_ERROR_CODES | {"url_fetch_failed"}

# (code, message, details, our status) -> (their status, their body)
Shape = Callable[[str, str, dict[str, Any], int], tuple[int, dict[str, Any]]]


def shaped_errors(shape: Shape) -> Callable[[Exception, dict[str, Any]], Response | None]:
    """DRF's exception handler for a route whose clients expect another error body."""

    def handle(exc: Exception, context: dict[str, Any]) -> Response | None:
        response = api_exception_handler(exc, context)
        if response is None:
            return None  # unknown: the middleware logs it and answers 500
        error = response.data["error"]
        response.status_code, response.data = shape(
            error["code"], error["message"], error["details"], response.status_code
        )
        return response

    return handle


class AnyAccept(BaseContentNegotiation):
    """JSON whatever the Accept header says: these clients expect an image or JSON from
    the same route, and a 406 would mean something else to them (Segmind: no credits)."""

    def select_parser(self, request: Request, parsers: list[Any]) -> Any:
        return next((p for p in parsers if request.content_type.startswith(p.media_type)), None)

    def select_renderer(self, request: Request, renderers: list[Any], format_suffix: Any = None):
        return renderers[0], renderers[0].media_type


class JobRouteView(RateLimitedMixin, APIView):
    """A compatible route that makes jobs and answers when they end."""

    error_shape: Shape
    content_negotiation_class = AnyAccept

    def get_exception_handler(self) -> Callable[..., Response | None]:
        return shaped_errors(type(self).error_shape)

    def create_jobs(self, request: Request, make: Callable[[], list[SwapSpec]]) -> list[str]:
        """The ids of the jobs `make()`'s specs became (or, for a repeated
        Idempotency-Key, of those the first request made)."""
        accepted = idempotent(
            request,
            account=request.auth.account,
            handler=lambda: _accepted(
                services.create_swap_jobs(
                    account=request.auth.account, api_key=request.auth, specs=make()
                )
            ),
            replay=lambda ids: Response({"ids": ids}, status=status.HTTP_202_ACCEPTED),
        )
        return [str(job_id) for job_id in accepted.data["ids"]]

    def owned_job(self, job_id: str | uuid.UUID) -> SwapJob:
        return SwapJob.objects.owned_by(self.request.auth.account).get(pk=job_id)

    def job_object(self, job: SwapJob) -> dict[str, Any]:
        """The native job object (signed result URL, error), as GET /api/v1/swaps/{id}."""
        return SwapJobSerializer(job, context={"request": self.request}).data


def _accepted(jobs: list[SwapJob]) -> Response:
    return Response({"ids": [str(job.pk) for job in jobs]}, status=status.HTTP_202_ACCEPTED)


def result_bytes(job: SwapJob) -> bytes:
    with job.result.open("rb") as handle:
        return handle.read()


def result_base64(job: SwapJob) -> str:
    return base64.b64encode(result_bytes(job)).decode("ascii")


def failure_status(code: str) -> int:
    return 400 if code in INPUT_FAILURES else 500
