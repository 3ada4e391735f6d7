"""How the OpenAPI document (/openapi.json, /docs) describes authentication.
Imported by the app config so drf-spectacular registers the extension."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class EvaAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "evaapi.auth.authentication.EvaAuthentication"
    name = ["bearerAuth", "apiKeyHeader"]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "http",
                "scheme": "bearer",
                "description": "An API key (eva_…), an Entra ID access token or a local login token.",
            },
            {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "An API key (eva_…)."},
        ]
