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

logger = logging.getLogger(__name__)

# Stable code -> HTTP status, as published in API.md.
STATUS_BY_CODE: dict[str, int] = {
    "invalid_parameter": 400,
    "invalid_image_format": 400,
    "url_not_allowed": 400,
    "url_fetch_failed": 400,
    "api_key_required": 401,
    "invalid_api_key": 401,
    "insufficient_credits": 402,
    "permission_denied": 403,
    "not_found": 404,
    "idempotency_conflict": 409,
    "method_not_allowed": 405,
    "unsupported_media_type": 415,
    "image_too_large": 413,
    "request_too_large": 413,
    "headers_too_large": 431,
    "rate_limit_exceeded": 429,
    "server_error": 500,
    "server_busy": 503,
    # Face problems: a failed job's error codes, and 400 on synchronous face routes.
    "no_face_detected": 400,
    "face_count_mismatch": 400,
    "face_index_out_of_range": 400,
    "face_not_swappable": 400,
}


class ApiError(Exception):
    """An error the API reports as-is, with a stable code."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None,
                 *, status: int | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}
        self.status = status or STATUS_BY_CODE.get(code, 400)
        self.headers = headers or {}


def envelope(request: HttpRequest | None, code: str, message: str,
             details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "success": False,
        "error": {"code": code, "message": message, "details": details or {}},
        "request_id": getattr(request, "request_id", None),
    }


def json_error(request: HttpRequest | None, code: str, message: str,
               details: dict[str, Any] | None = None, *, status: int | None = None) -> JsonResponse:
    return JsonResponse(envelope(request, code, message, details),
                        status=status or STATUS_BY_CODE.get(code, 400))


def _from_exception(exc: Exception) -> ApiError | None:
    """Translate known exceptions; None means 'not ours' (a real 500)."""
    if isinstance(exc, ApiError):
        return exc
    code = getattr(exc, "code", None)
    if isinstance(code, str) and code in STATUS_BY_CODE and hasattr(exc, "message"):
        # Typed errors of the input layer (imaging, fetch) carry API codes already.
        return ApiError(code, exc.message, getattr(exc, "details", None))
    return _from_framework_exception(exc)


def _from_framework_exception(exc: Exception) -> ApiError | None:
    if isinstance(exc, drf.NotAuthenticated):
        return ApiError("api_key_required", "An API key is required: send X-Api-Key or "
                        "Authorization: Bearer.")
    if isinstance(exc, drf.AuthenticationFailed):
        return ApiError("invalid_api_key", "The API key is invalid or revoked.")
    if isinstance(exc, drf.ValidationError):
        return ApiError("invalid_parameter", "Some parameters are invalid.",
                        {"fields": exc.detail})
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
    response = Response(envelope(request, error.code, error.message, error.details),
                        status=error.status)
    for name, value in getattr(exc, "headers", {}).items():
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
