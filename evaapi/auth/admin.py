from django.contrib import admin

from evaapi.auth.models import TenantMembership
from evaapi.auth.selectors import membership_of_user


@admin.register(TenantMembership)
class TenantMembershipAdmin(admin.ModelAdmin):
    """Memberships are the admin's tenant wall (evaapi/auth/admin_views.py): a staff user who is
    not a superuser sees only their own tenant's, and only a superuser adds, changes or deletes
    one, or that user could move themselves into any tenant."""

    list_display = ("user", "tenant_id", "scopes")
    search_fields = ("user__username", "tenant_id")

    def get_queryset(self, request):
        memberships = super().get_queryset(request)
        if request.user.is_superuser:
            return memberships
        own = membership_of_user(user_id=request.user.pk)
        return memberships.filter(tenant_id=own.tenant_id) if own is not None else memberships.none()

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
