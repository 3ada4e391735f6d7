from rest_framework.permissions import BasePermission

from evaapi.auth.domain import Principal


class ScopePermission(BasePermission):
    """Each view names the scope every method needs: `required_scopes = {"GET": "spaces:read"}`.
    A view that names none is closed to everyone, so a forgotten declaration fails safe."""

    def has_permission(self, request, view):
        required = getattr(view, "required_scopes", None)
        principal = request.user
        if required is None or not isinstance(principal, Principal):
            return False
        method = "GET" if request.method == "HEAD" else request.method
        if method not in required:
            return True  # the view answers 405 for a method it does not have
        scope = required[method]
        if principal.has_scope(scope):
            return True
        self.message = f"This needs the scope {scope!r}."
        return False
