from rest_framework.permissions import BasePermission

from evaapi.auth.domain import Principal


class ScopePermission(BasePermission):
    """Each view names the scope every method needs: `required_scopes = {"GET": "spaces:read"}`.
    Fails closed: a method the view handles but does not declare is refused to everyone, and so
    is a view that declares nothing, so a forgotten declaration is a 403, never an open door."""

    def has_permission(self, request, view):
        principal = request.user
        if not isinstance(principal, Principal):
            return False
        method = "GET" if request.method == "HEAD" else request.method
        if method.lower() not in view.http_method_names or not hasattr(view, method.lower()):
            return True  # a method the view does not have: DRF answers 405 with Allow
        scope = getattr(view, "required_scopes", {}).get(method)
        if scope is None:
            self.message = f"No scope is declared for {method} here; it is refused."
            return False
        if principal.has_scope(scope):
            return True
        self.message = f"This needs the scope {scope!r}."
        return False
