"""The one JSON error envelope of the API, and the map from exceptions to it.

`{"success": false, "error": {"code", "message", "details"}, "request_id"}` on every
error of every API route, whichever layer raised it (DRF, Django, the engine, inputs).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response

from faceswap_site.codes import STATUS_BY_CODE, CodedError

logger = logging.getLogger(__name__)


class ApiError(CodedError):
    """An error the API layer itself raises (the engine, images, URLs and quotas raise
    their own CodedError subclasses)."""


def envelope(
    request: HttpRequest | None, code: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "success": False,
        "error": {"code": code, "message": message, "details": details or {}},
        "request_id": getattr(request, "request_id", None),
    }


def json_error(
    request: HttpRequest | None,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    *,
    status: int | None = None,
) -> JsonResponse:
    return JsonResponse(
        envelope(request, code, message, details), status=status or STATUS_BY_CODE.get(code, 400)
    )


def _from_exception(exc: Exception) -> CodedError | None:
    """Translate known exceptions; None means 'not ours' (a real 500)."""
    if isinstance(exc, CodedError) and exc.code in STATUS_BY_CODE:
        return exc  # every layer's errors (API, quotas, images, URLs, engine)
    return _from_framework_exception(exc)


def _from_framework_exception(exc: Exception) -> ApiError | None:
    if isinstance(exc, drf.NotAuthenticated):
        return ApiError(
            "api_key_required", "An API key is required: send X-Api-Key or Authorization: Bearer."
        )
    if isinstance(exc, drf.AuthenticationFailed):
        return ApiError("invalid_api_key", "The API key is invalid or revoked.")
    if isinstance(exc, drf.ValidationError):
        return ApiError("invalid_parameter", "Some parameters are invalid.", {"fields": exc.detail})
    if isinstance(exc, drf.ParseError):
        return ApiError("invalid_parameter", f"Malformed request body: {exc.detail}")
    if isinstance(exc, drf.UnsupportedMediaType):
        return ApiError("unsupported_media_type", str(exc.detail))
    if isinstance(exc, Http404 | drf.NotFound):
        return ApiError("not_found", "Not found.")
    if isinstance(exc, drf.MethodNotAllowed):
        return ApiError("method_not_allowed", str(exc.detail))
    if isinstance(exc, PermissionDenied | drf.PermissionDenied):
        return ApiError("permission_denied", "You do not have permission to do this.")
    if isinstance(exc, RequestDataTooBig):
        return ApiError("request_too_large", "The request body is too large.")
    if isinstance(exc, drf.Throttled):
        return ApiError("rate_limit_exceeded", "Too many requests.")
    return None


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: everything known becomes the envelope."""
    error = _from_exception(exc)
    if error is None:
        return None  # unknown: let the middleware log it and answer server_error
    request = context.get("request")
    response = Response(
        envelope(request, error.code, error.message, error.details), status=error.status
    )
    for name, value in error.headers.items():
        response[name] = value
    if error.code in {"api_key_required", "invalid_api_key"}:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def response_for_exception(request: HttpRequest, exc: Exception) -> JsonResponse:
    """For exceptions outside DRF on API routes (middleware)."""
    error = _from_exception(exc)
    if error is None:
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return json_error(request, "server_error", "Internal server error.", status=500)
    return json_error(request, error.code, error.message, error.details, status=error.status)
