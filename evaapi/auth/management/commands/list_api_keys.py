from django.core.management.base import BaseCommand, CommandError

from evaapi.auth.selectors import api_key_list, tenant_get
from evaapi.exceptions import ServiceError

PAGE_SIZE = 100


class Command(BaseCommand):
    help = ("List a tenant's API keys, newest first, one tab-separated line each: id, name, scopes, "
            "created, expires, revoked, last used ('-' for none). Keys themselves are never stored.")

    def add_arguments(self, parser):
        parser.add_argument("tenant_id")

    def handle(self, *args, tenant_id, **options):
        try:
            tenant = tenant_get(tenant_id=tenant_id)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write("\t".join(("id", "name", "scopes", "created", "expires", "revoked", "last used")))
        continuation = None
        while True:
            keys, continuation = api_key_list(tenant=tenant, limit=PAGE_SIZE, continuation=continuation)
            for key in keys:
                self.stdout.write("\t".join((
                    key.id, key.name, ",".join(key.scopes), key.created_at,
                    key.expires_at or "-", key.revoked_at or "-", key.last_used_at or "-",
                )))
            if continuation is None:
                return
