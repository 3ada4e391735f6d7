from django.contrib import admin

from evaapi.auth.models import TenantMembership


@admin.register(TenantMembership)
class TenantMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "tenant_id")
    search_fields = ("user__username", "tenant_id")
