"""OpenAPI pieces: API-key authentication (either header form is enough), errors, keys."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from swaps.api.serializers import ErrorEnvelopeSerializer


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = ["ApiKeyHeader", "BearerKey"]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        return [
            {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
            {
                "type": "http",
                "scheme": "bearer",
                "description": "The same API key as a Bearer token",
            },
        ]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        # A list of requirements means "any one of them" (a dict would mean "all").
        return [{name: []} for name in self.name]


# The key as `key` in the body (ModelsLab): OpenAPI has no body scheme, so these routes list
# the header schemes (which also work there) and their request schema shows `key`. Given as
# `auth=` because a scheme registered for BodyKeyAuthentication would clash by name.
KEY_IN_HEADER_OR_BODY = [{"ApiKeyHeader": []}, {"BearerKey": []}]


# --- Shared by every API view: the error envelope and Idempotency-Key ------------------

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Repeat the request safely: the same key and body replay the first "
    "answer (kept 24 h); another body is 422, a request still running 409.",
)

PREFER_WAIT = OpenApiParameter(
    "Prefer",
    str,
    OpenApiParameter.HEADER,
    description="`wait=N` (RFC 7240, N at most 60): answer when the job ends, 200 with the "
    "final object and `Preference-Applied: wait=N`, if that is within N seconds; else the "
    "usual 202 after N seconds. A larger N waits 60 s; a malformed one is ignored.",
)


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """The error envelope under each status."""
    return {code: OpenApiResponse(ErrorEnvelopeSerializer) for code in statuses}


def document_unsupported_media_types(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Every operation that takes a body can answer 415 (a body it cannot parse), in the
    same envelope as its 400: one hook instead of a 415 in every view's list."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {}) if isinstance(operation, dict) else {}
            if "requestBody" in operation and "400" in responses:
                responses.setdefault(
                    "415", {**responses["400"], "description": "Unsupported media type"}
                )
    return result
