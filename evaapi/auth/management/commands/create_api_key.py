from django.core.management.base import BaseCommand, CommandError
from rest_framework.exceptions import ValidationError

from evaapi.api.views import input_valid
from evaapi.auth.api.serializers import ApiKeyCreateInput
from evaapi.auth.scopes import ALL_SCOPES
from evaapi.auth.selectors import tenant_get
from evaapi.auth.services.api_keys import api_key_create
from evaapi.exceptions import ServiceError


class Command(BaseCommand):
    help = "Create an API key for a tenant and print it (shown once; only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("tenant_id")
        parser.add_argument("--name", default="cli")
        parser.add_argument("--scopes", default=",".join(ALL_SCOPES), help="comma-separated scopes")

    def handle(self, *args, tenant_id, name, scopes, **options):
        try:
            # The API's own input rules (a name of at most 100 characters...): a key made here is
            # one the API could have made.
            data = input_valid(ApiKeyCreateInput, {"name": name,
                                                   "scopes": [s.strip() for s in scopes.split(",") if s.strip()]})
        except ValidationError as exc:
            raise CommandError("; ".join(f"--{field}: {' '.join(_messages(detail))}"
                                         for field, detail in exc.detail.items())) from exc
        try:
            tenant = tenant_get(tenant_id=tenant_id)
            key, secret = api_key_create(tenant=tenant, actor="cli", name=data["name"], scopes=data["scopes"])
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(f"key {key.id} for tenant {tenant.id}, scopes {', '.join(key.scopes)}")
        self.stdout.write(secret)


def _messages(detail):
    """A field's error messages, also those of a list's items (nested by index)."""
    if isinstance(detail, dict):
        detail = list(detail.values())
    if isinstance(detail, list):
        for item in detail:
            yield from _messages(item)
    else:
        yield str(detail)
