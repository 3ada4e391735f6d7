from django.core.management.base import BaseCommand, CommandError

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
            tenant = tenant_get(tenant_id=tenant_id)
            key, secret = api_key_create(
                tenant=tenant, actor="cli", name=name, scopes=[s.strip() for s in scopes.split(",") if s.strip()]
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(f"key {key.id} for tenant {tenant.id}, scopes {', '.join(key.scopes)}")
        self.stdout.write(secret)
