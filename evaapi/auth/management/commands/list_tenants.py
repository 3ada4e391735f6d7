from django.core.management.base import BaseCommand

from evaapi.auth.selectors import tenant_list

PAGE_SIZE = 100


class Command(BaseCommand):
    help = "List every tenant, newest first, one tab-separated line each: id, name, tier, status, created."

    def handle(self, *args, **options):
        self.stdout.write("\t".join(("id", "name", "tier", "status", "created")))
        continuation = None
        while True:
            tenants, continuation = tenant_list(limit=PAGE_SIZE, continuation=continuation)
            for tenant in tenants:
                self.stdout.write("\t".join((tenant.id, tenant.name, tenant.tier, tenant.status, tenant.created_at)))
            if continuation is None:
                return
