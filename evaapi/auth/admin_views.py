"""The admin's pages for tenants and API keys. No ORM models stand behind them (both live in the
document store), so they are plain views on the admin site: they read through the selectors and
change things only through the services, which audit every change (actor `admin:<user pk>`).

The tenant wall holds here as in the API. A superuser (a platform operator) sees every tenant;
any other staff user sees only the tenant of their TenantMembership (none without one), and
another tenant's pages and actions are a 404, exactly like a missing tenant's."""

from contextlib import suppress
from datetime import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST, require_safe

from evaapi.auth import selectors
from evaapi.auth.domain import ApiKey, Tenant, TenantStatus
from evaapi.auth.services.api_keys import api_key_revoke
from evaapi.auth.services.tenants import tenant_status_set
from evaapi.exceptions import ResourceNotFound
from evaapi.times import utc_now

PAGE_SIZE = 50


def _actor(request) -> str:
    return f"admin:{request.user.pk}"


def _continuation(request) -> str | None:
    return request.GET.get("continuation") or None


def tenant_visible(request, tenant_id: str) -> Tenant:
    """The tenant, if this admin user may see it; otherwise the same 404 as a missing tenant."""
    if not request.user.is_superuser:
        membership = selectors.membership_of_user(user_id=request.user.pk)
        if membership is None or membership.tenant_id != tenant_id:
            raise ResourceNotFound("No such tenant.")
    return selectors.tenant_get(tenant_id=tenant_id)


def _key_state(key: ApiKey, now: datetime) -> str:
    if key.revoked_at is not None:
        return "revoked"
    return "active" if key.usable_at(now) else "expired"


class TenantAdminViews:
    """The pages, bound to the admin site that serves them (for its login check and context)."""

    def __init__(self, site):
        self.site = site

    def urls(self) -> list:
        view = self.site.admin_view  # staff only, CSRF-protected, never cached
        return [
            path("tenants/", view(require_safe(self.tenant_list)), name="eva_tenant_list"),
            path("tenants/<str:tenant_id>/", view(require_safe(self.tenant_detail)), name="eva_tenant_detail"),
            path("tenants/<str:tenant_id>/status/", view(require_POST(self.tenant_status)), name="eva_tenant_status"),
            path("tenants/<str:tenant_id>/keys/<str:key_id>/", view(require_safe(self.api_key_detail)),
                 name="eva_api_key_detail"),
            path("tenants/<str:tenant_id>/keys/<str:key_id>/revoke/", view(require_POST(self.api_key_revoke)),
                 name="eva_api_key_revoke"),
        ]

    def _url(self, name: str, **kwargs) -> str:
        return reverse(f"admin:{name}", kwargs=kwargs, current_app=self.site.name)

    def app_list_entry(self) -> dict:
        """The index's and the sidebar's link to these pages, shaped like a registered app."""
        url = self._url("eva_tenant_list")
        return {
            "name": "Tenants",
            "app_label": "eva_tenants",
            "app_url": url,
            "models": [{"name": "Tenants and API keys", "object_name": "Tenant", "admin_url": url, "view_only": True}],
        }

    def _render(self, request, template: str, title: str, **context) -> TemplateResponse:
        request.current_app = self.site.name
        return TemplateResponse(request, f"eva_auth/admin/{template}",
                                {**self.site.each_context(request), "title": title, **context})

    def tenant_list(self, request):
        if request.user.is_superuser:
            tenants, continuation = selectors.tenant_list(limit=PAGE_SIZE, continuation=_continuation(request))
        else:
            # At most one tenant: there is nothing to page.
            membership = selectors.membership_of_user(user_id=request.user.pk)
            tenants, continuation = [], None
            if membership is not None:
                with suppress(ResourceNotFound):  # a membership of a tenant that is gone shows nothing
                    tenants = [selectors.tenant_get(tenant_id=membership.tenant_id)]
        return self._render(request, "tenant_list.html", "Tenants", tenants=tenants, continuation=continuation,
                            is_first_page=_continuation(request) is None)

    def tenant_detail(self, request, tenant_id: str):
        tenant = tenant_visible(request, tenant_id)
        keys, continuation = selectors.api_key_list(tenant=tenant, limit=PAGE_SIZE,
                                                    continuation=_continuation(request))
        now = utc_now()
        return self._render(
            request, "tenant_detail.html", f"Tenant {tenant.name}", tenant=tenant,
            keys=[(key, _key_state(key, now)) for key in keys], continuation=continuation,
            is_first_page=_continuation(request) is None,
            can_set_status=request.user.is_superuser, is_active=tenant.status == TenantStatus.ACTIVE,
        )

    def tenant_status(self, request, tenant_id: str):
        tenant = tenant_visible(request, tenant_id)
        if not request.user.is_superuser:
            # A suspension is the platform's decision: a tenant's own staff must not lift it.
            raise PermissionDenied
        tenant = tenant_status_set(tenant=tenant, status=request.POST.get("status", ""), actor=_actor(request))
        messages.success(request, f"Tenant {tenant.name} is {tenant.status}.")
        return redirect(self._url("eva_tenant_detail", tenant_id=tenant.id))

    def api_key_detail(self, request, tenant_id: str, key_id: str):
        tenant = tenant_visible(request, tenant_id)
        key = selectors.api_key_get(tenant=tenant, key_id=key_id)
        return self._render(request, "api_key_detail.html", f"API key {key.prefix}", tenant=tenant, key=key,
                            state=_key_state(key, utc_now()))

    def api_key_revoke(self, request, tenant_id: str, key_id: str):
        tenant = tenant_visible(request, tenant_id)
        key = api_key_revoke(tenant=tenant, actor=_actor(request), key_id=key_id)
        messages.success(request, f"API key {key.prefix} is revoked.")
        return redirect(self._url("eva_api_key_detail", tenant_id=tenant.id, key_id=key.id))
