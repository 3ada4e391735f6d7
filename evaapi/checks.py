"""System checks of settings that are only parsed when first used: run at start-up (the server
launcher and `manage.py check` run them), so a typo stops the deployment instead of failing its
first request."""

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured


@register("evaapi")
def check_parsed_settings(app_configs=None, **kwargs):
    from evaapi.auth.ratelimit import tiers_parse, unauthenticated_limit_parse
    from evaapi.http.client_ip import trusted_networks
    from webhooks.safety import allowed_targets_parse

    errors = []
    parsers = (
        ("RATE_LIMIT_TIERS", tiers_parse),
        ("RATE_LIMIT_UNAUTHENTICATED", unauthenticated_limit_parse),
        ("TRUSTED_PROXIES", lambda value: trusted_networks(tuple(value))),
        ("WEBHOOK_ALLOWED_TARGETS", lambda value: allowed_targets_parse(tuple(value))),
    )
    for number, (name, parse) in enumerate(parsers, start=1):
        try:
            parse(getattr(settings, name))
        except ImproperlyConfigured as exc:
            errors.append(Error(str(exc), hint=f"See {name} in .env.example.", id=f"evaapi.E00{number}"))
    return errors


_ADMIN_NEEDS = (
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
)


@register("evaapi")
def check_admin_middleware(app_configs=None, **kwargs):
    """What the admin's own E408-E410 check, against ADMIN_MIDDLEWARE (where the admin's
    middleware is) instead of MIDDLEWARE."""
    order = [settings.ADMIN_MIDDLEWARE.index(path) if path in settings.ADMIN_MIDDLEWARE else -1
             for path in _ADMIN_NEEDS]
    if -1 in order or order != sorted(order):
        return [Error(f"ADMIN_MIDDLEWARE must contain {', '.join(_ADMIN_NEEDS)}, in this order.",
                      id="evaapi.E010")]
    return []
