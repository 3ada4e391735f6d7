from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.module_loading import autodiscover_modules


class EvaApiConfig(AppConfig):
    name = "evaapi"
    verbose_name = "EVA API"
    default = True

    def ready(self):
        # Each app declares its store containers in its repositories module.
        autodiscover_modules("repositories")
        from evaapi import checks  # noqa: F401 - registers the system checks


class EvaAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the project's site (login lockout and audit); named in
    INSTALLED_APPS instead of django.contrib.admin."""

    default = False
    default_site = "evaapi.admin_site.EvaAdminSite"
