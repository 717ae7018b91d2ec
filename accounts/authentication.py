"""DRF authentication by API key; `X-Api-Key` and `Authorization: Bearer` share one path."""

from __future__ import annotations

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.keys import verify_api_key
from accounts.models import ApiKey


def raw_key_from_request(request: Request) -> str | None:
    header = request.headers.get("X-Api-Key")
    if header:
        return header.strip()
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[object, ApiKey] | None:
        raw = raw_key_from_request(request)
        if raw is None:
            return None  # -> NotAuthenticated -> 401 api_key_required
        key = verify_api_key(raw)
        if key is None:
            raise exceptions.AuthenticationFailed("invalid_api_key")
        return key.account.user, key

    def authenticate_header(self, request: Request) -> str:
        # A non-empty value makes DRF answer 401 rather than 403.
        return 'Bearer realm="api"'


class BodyKeyAuthentication(ApiKeyAuthentication):
    """The key as `key` in the JSON body (ModelsLab's clients send it so); the headers
    still work. The body is parsed here, before the rate limit and any work."""

    def authenticate(self, request: Request) -> tuple[object, ApiKey] | None:
        data = request.data
        raw = data.get("key") if isinstance(data, dict) or hasattr(data, "getlist") else None
        if not isinstance(raw, str) or not raw.strip():
            return super().authenticate(request)
        key = verify_api_key(raw.strip())
        if key is None:
            raise exceptions.AuthenticationFailed("invalid_api_key")
        return key.account.user, key
