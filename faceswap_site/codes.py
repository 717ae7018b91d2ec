"""Errors with a stable code: the one base class, and the one table of their HTTP statuses.

Pure Python, no Django: the engine, the image and network code, quotas and the API all
raise CodedError subclasses, and faceswap_site.errors turns any of them into the JSON
envelope with the status below.
"""

from __future__ import annotations

from typing import Any

# Stable code -> HTTP status, as the README's error table publishes them.
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
    # The engine failed on input it accepted (a synchronous face route; a job's error).
    "processing_failed": 422,
}

# What a bare HTTP status means when something answers with only a status (Django's own
# 404/405 pages, the web server's refusals): the code the envelope then carries.
CODE_BY_STATUS: dict[int, str] = {
    400: "invalid_parameter",
    401: "api_key_required",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "rate_limit_exceeded",
    431: "headers_too_large",
}


class CodedError(Exception):
    """An error with a stable code, a message safe to show, and details."""

    def __init__(
        self,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details: dict[str, Any] = dict(details or {})
        self.status = status or STATUS_BY_CODE.get(code, 400)
        self.headers = headers or {}


def code_for_status(status: int) -> str:
    return CODE_BY_STATUS.get(status, "server_error" if status >= 500 else "invalid_parameter")
