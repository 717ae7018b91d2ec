"""OpenAPI description of API-key authentication (both header forms)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = ["ApiKeyHeader", "BearerKey"]

    def get_security_definition(self, auto_schema):  # noqa: ANN001, ANN201
        return [
            {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
            {"type": "http", "scheme": "bearer",
             "description": "The same API key as a Bearer token"},
        ]
