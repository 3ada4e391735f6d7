"""The Django admin, with the API login's lockout and audit on its login form, and pages for
tenants and API keys (evaapi/auth/admin_views.py) and for webhooks (webhooks/admin_views.py),
which live in the store, not the ORM."""

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from evaapi.auth.admin_views import TenantAdminViews
from evaapi.auth.services.login import login_user_verify
from evaapi.exceptions import NotAuthenticated, RateLimited
from webhooks.admin_views import WebhookAdminViews


class EvaAdminLoginForm(AdminAuthenticationForm):
    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = login_user_verify(username=username, password=password, channel="admin")
            except RateLimited as exc:
                raise ValidationError(
                    "Too many failed logins; try again in %(seconds)s seconds.",
                    code="locked_out",
                    params={"seconds": exc.details["retry_after"]},
                ) from None
            except NotAuthenticated:
                raise self.get_invalid_login_error() from None
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class EvaAdminSite(admin.AdminSite):
    site_header = "EVA API administration"
    login_form = EvaAdminLoginForm

    def get_urls(self):
        # First: the site's own patterns end in a catch-all.
        return TenantAdminViews(self).urls() + WebhookAdminViews(self).urls() + super().get_urls()

    def get_app_list(self, request, app_label=None):
        app_list = super().get_app_list(request, app_label)
        if app_label is None:
            app_list.insert(0, TenantAdminViews(self).app_list_entry())
            app_list.insert(1, WebhookAdminViews(self).app_list_entry())
        return app_list
