"""The base of every API view. One class per operation group, thin: parse input, call one
service or selector, shape output."""

from django.http import HttpResponse
from django.template.response import SimpleTemplateResponse
from rest_framework.views import APIView

from evaapi.auth.refusals import client_refusal_check, client_refusal_count
from evaapi.http.errors import service_error_response


class ApiView(APIView):
    """Declares the scope each HTTP method needs, e.g. `{"GET": scopes.SPACES_READ}`.

    `evaapi.auth.permissions.ScopePermission` checks it and fails closed: a method that is not
    declared is refused to everyone, so a forgotten entry is a 403, never an open door.

    Every 401 and 403 counts against the client IP's limit on refused requests
    (evaapi/auth/refusals.py); past it, the answer is 429, before credentials are checked."""

    required_scopes: dict[str, str] = {}
    # No OPTIONS handler: CORS preflights are answered by the CORS middleware, and DRF's
    # metadata answer would describe endpoints to callers without credentials.
    http_method_names = [name for name in APIView.http_method_names if name != "options"]

    def initial(self, request, *args, **kwargs):
        client_refusal_check(request.client_ip)
        super().initial(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if not isinstance(response, SimpleTemplateResponse):
            return response
        # Rendered here, on the view's thread, and handed on as a plain response: Django renders
        # a template response itself, which under ASGI is one more crossing to a thread.
        response.render()
        plain = HttpResponse(response.content, status=response.status_code)
        for name, value in response.items():
            plain[name] = value
        plain.is_error_shaped = getattr(response, "is_error_shaped", False)
        return plain

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if response.status_code in (401, 403):
            refused = client_refusal_count(self.request.client_ip)
            if refused is not None:
                return service_error_response(refused)
        return response


def input_valid(serializer_class, data) -> dict:
    """The validated data of an input serializer, or a 400 naming each bad field."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
