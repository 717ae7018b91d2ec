"""Request ids, the request-size cap, and JSON-only errors on API routes."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from faceswap_site.codes import code_for_status
from faceswap_site.errors import json_error, response_for_exception

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


# /v1/: compatible routes at other services' own paths (swaps/api/service_urls.py).
API_PREFIXES = ("/api/", "/v1/")


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES)


class RequestIdMiddleware:
    """Every response carries X-Request-Id (the client's if it sent a sane one)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-Id", "")
        request.request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        response = self.get_response(request)
        response["X-Request-Id"] = request.request_id
        return response


class ApiJsonErrorsMiddleware:
    """Caps the request body and keeps HTML error pages off /api/.

    Django's DATA_UPLOAD_MAX_MEMORY_SIZE does not count file parts, so the whole body
    is capped here from Content-Length before anything reads it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        too_large = self._refuse_oversized_body(request)
        if too_large is not None:
            return too_large
        response = self.get_response(request)
        if is_api_path(request.path) and response.status_code >= 400:
            return self._as_json(request, response)
        return response

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if is_api_path(request.path):
            return response_for_exception(request, exc)
        return None

    def _refuse_oversized_body(self, request: HttpRequest) -> HttpResponse | None:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.MAX_REQUEST_BYTES
        if length <= limit:
            return None
        message = f"The request body is {length} bytes; the limit is {limit}."
        if is_api_path(request.path):
            return json_error(
                request, "request_too_large", message, {"max_bytes": limit}, status=413
            )
        return HttpResponse(message, status=413, content_type="text/plain")

    def _as_json(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        status = response.status_code
        code = code_for_status(status)
        message = "Internal server error." if status >= 500 else (response.reason_phrase or code)
        converted = json_error(request, code, message, status=status)
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                converted[header] = response[header]
        return converted


class PermissionsPolicyMiddleware:
    """Permissions-Policy on every response: browser features no page uses are off."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
