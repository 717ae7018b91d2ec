"""API pieces of accounts: per-account rate limiting for every API view, GET /account."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import rate_limits


class RateLimitedMixin:
    """Counts each authenticated request in its windows and adds X-RateLimit-* headers.

    Runs after authentication and before the handler, so a refused request (429)
    reaches no validation, charge or job. A POST counts as creating work unless the view
    says otherwise (`creates_work = False`: a read that clients send as POST).
    """

    creates_work: bool | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.auth is not None:
            request.rate_status = rate_limits.consume_request(
                account=request.auth.account,
                writes=request.method == "POST" if self.creates_work is None else self.creates_work,
            )

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        status = getattr(request, "rate_status", None)
        if status is not None:
            for name, value in rate_limits.rate_headers(status).items():
                response.headers.setdefault(name, value)
        return response


class WindowSerializer(serializers.Serializer):
    limit = serializers.IntegerField()
    remaining = serializers.IntegerField()
    reset = serializers.IntegerField(help_text="UTC epoch seconds when the window resets.")


class LimitsSerializer(serializers.Serializer):
    hour = WindowSerializer()
    day = WindowSerializer()


class AccountSerializer(serializers.Serializer):
    plan = serializers.CharField(help_text="Plan slug: free, basic, pro or enterprise.")
    plan_name = serializers.CharField()
    credits = serializers.IntegerField()
    monthly_credits = serializers.IntegerField()
    watermark_by_default = serializers.BooleanField()
    limits = LimitsSerializer()


class AccountView(RateLimitedMixin, APIView):
    """The caller's account."""

    @extend_schema(
        summary="Your plan, credits and rate-limit windows",
        responses={200: AccountSerializer, 401: OpenApiResponse(description="No key")},
    )
    def get(self, request: Request) -> Response:
        account = request.auth.account
        account.refresh_from_db(fields=["credits"])
        windows = rate_limits.window_statuses(account=account)
        return Response(
            AccountSerializer(
                {
                    "plan": account.plan.slug,
                    "plan_name": account.plan.name,
                    "credits": account.credits,
                    "monthly_credits": account.plan.monthly_credits,
                    "watermark_by_default": account.plan.watermark_by_default,
                    "limits": {scope: status.as_json() for scope, status in windows.items()},
                }
            ).data
        )
