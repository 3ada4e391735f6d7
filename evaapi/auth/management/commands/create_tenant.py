from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from evaapi.auth.domain import TenantTier
from evaapi.auth.scopes import ALL_SCOPES
from evaapi.auth.services.tenants import tenant_create, tenant_member_add
from evaapi.exceptions import ServiceError


class Command(BaseCommand):
    help = "Create a tenant; optionally make an existing Django user a member of it (local login)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--tier", default=TenantTier.FREE, choices=[t.value for t in TenantTier])
        parser.add_argument("--id", dest="tenant_id", help="tenant id; use the Entra ID tenant id (tid) to admit "
                            "that directory's tokens (default: a new UUID)")
        parser.add_argument("--user", help="username of an existing Django user to make a member")
        parser.add_argument("--user-scopes", default=",".join(s for s in ALL_SCOPES if s != "admin"),
                            help="comma-separated scopes the member's login tokens carry")

    def handle(self, *args, name, tier, tenant_id, user, user_scopes, **options):
        member = None
        if user:
            member = get_user_model().objects.filter(username=user).first()
            if member is None:
                raise CommandError(f"no Django user {user!r}")
        try:
            tenant = tenant_create(name=name, tier=tier, tenant_id=tenant_id)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"tenant {tenant.id} ({tenant.name}, {tenant.tier})")
        if member is not None:
            scopes = [s.strip() for s in user_scopes.split(",") if s.strip()]
            try:
                membership = tenant_member_add(tenant=tenant, user=member, scopes=scopes, actor="cli")
            except ServiceError as exc:
                raise CommandError(exc.message) from exc
            self.stdout.write(f"user {member.username} is a member with scopes {', '.join(membership.scopes)}")
