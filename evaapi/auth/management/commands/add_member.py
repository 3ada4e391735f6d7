from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from evaapi.auth.scopes import ALL_SCOPES
from evaapi.auth.selectors import tenant_get
from evaapi.auth.services.tenants import tenant_member_add
from evaapi.exceptions import ServiceError


class Command(BaseCommand):
    help = ("Make an existing Django user a member of a tenant (local login, the tenant's admin pages). "
            "A user belongs to one tenant: this moves a member of another.")

    def add_arguments(self, parser):
        parser.add_argument("tenant_id")
        parser.add_argument("username")
        parser.add_argument("--scopes", default=",".join(s for s in ALL_SCOPES if s != "admin"),
                            help="comma-separated scopes the member's login tokens carry (default: all but admin)")

    def handle(self, *args, tenant_id, username, scopes, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no Django user {username!r}")
        try:
            tenant = tenant_get(tenant_id=tenant_id)
            membership = tenant_member_add(tenant=tenant, user=user, actor="cli",
                                           scopes=[s.strip() for s in scopes.split(",") if s.strip()])
        except ServiceError as exc:
            raise CommandError(f"{exc.message} {exc.details}" if exc.details else exc.message) from exc
        self.stdout.write(f"user {user.username} is a member of tenant {tenant.id} ({tenant.name}) "
                          f"with scopes {', '.join(membership.scopes) or '(none)'}")
