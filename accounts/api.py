"""API pieces of accounts: per-account rate limiting for every API view, the account
(read it, export its data, delete it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django_ratelimit.core import is_ratelimited
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import rate_limits, services
from faceswap_site.errors import ApiError


class RateLimitedMixin:
    """Counts each authenticated request in its windows and adds X-RateLimit-* headers.

    Runs after authentication and before the handler, so a refused request (429)
    reaches no validation, charge or job.
    """

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.auth is not None:
            request.rate_status = rate_limits.consume_request(
                account=request.auth.account, writes=request.method == "POST"
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


class CloseAccountSerializer(serializers.Serializer):
    password = serializers.CharField(trim_whitespace=False, write_only=True)


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

    @extend_schema(
        summary="Delete your account and its data",
        description=(
            "Erases every photo, result, preview and saved face of the account, its API keys "
            "and webhook secret, and the user's email and name; cancels unfinished jobs. The "
            "credit ledger stays, tied to an anonymous account. Confirm with the account's "
            "password (JSON or form body). After this, every key of the account is refused (401)."
        ),
        request=CloseAccountSerializer,
        responses={
            204: OpenApiResponse(description="Deleted"),
            400: OpenApiResponse(description="No password sent (invalid_parameter)"),
            401: OpenApiResponse(description="No key"),
            403: OpenApiResponse(description="Wrong password (permission_denied)"),
            429: OpenApiResponse(description="Too many wrong passwords (rate_limit_exceeded)"),
        },
    )
    def delete(self, request: Request) -> Response:
        form = CloseAccountSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        account = request.auth.account
        _limit_password_attempts(request, account_id=account.pk)
        if not account.user.check_password(form.validated_data["password"]):
            raise ApiError("permission_denied", "That is not the account's password.")
        services.close_account(account=account)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _limit_password_attempts(request: Request, *, account_id: int) -> None:
    """The login's rate (LOGIN_RATE) per account: a leaked key cannot guess the password."""
    if is_ratelimited(
        request,
        group="accounts.close-api",
        key=lambda group, req: str(account_id),
        rate=settings.LOGIN_RATE,
        method=["DELETE"],
        increment=True,
    ):
        reset_at = timezone.now() + timedelta(minutes=1)
        raise ApiError(
            "rate_limit_exceeded",
            "Too many attempts; try again in a minute.",
            {"reset_at": reset_at.isoformat()},
            headers={"Retry-After": "60"},
        )


class AccountExportView(RateLimitedMixin, APIView):
    """Everything the service keeps about the caller's account, as one JSON document."""

    @extend_schema(
        summary="Export your account's data",
        description=(
            "The account (email, plan, credits), API keys (name, prefix, dates: never a key "
            "or its hash), usage windows and daily totals, the credit ledger, the job history "
            "(status, options, timings, result URLs while they last) and saved faces (names)."
        ),
        responses={
            200: inline_serializer(
                "AccountExport",
                {
                    "format": serializers.IntegerField(),
                    "exported_at": serializers.DateTimeField(),
                    "account": serializers.DictField(),
                    "api_keys": serializers.ListField(child=serializers.DictField()),
                    "usage": serializers.DictField(),
                    "ledger": serializers.ListField(child=serializers.DictField()),
                    "swaps": serializers.ListField(child=serializers.DictField()),
                    "saved_faces": serializers.ListField(child=serializers.DictField()),
                },
            ),
            401: OpenApiResponse(description="No key"),
        },
    )
    def get(self, request: Request) -> Response:
        return Response(
            services.export_account(
                account=request.auth.account, absolute_url=request.build_absolute_uri
            )
        )
