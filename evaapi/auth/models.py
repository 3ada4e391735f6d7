"""The one ORM model of the auth package: which tenant a Django user (local login, admin)
belongs to. Tenants themselves are domain data and live in the store."""

from django.conf import settings
from django.db import models


class TenantMembership(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tenant_membership")
    tenant_id = models.CharField(max_length=64, db_index=True)
    # The scopes a local login token of this user carries.
    scopes = models.JSONField(default=list)

    def __str__(self):
        return f"{self.user} @ {self.tenant_id}"
