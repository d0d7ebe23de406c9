from django.contrib import admin

from arena.audit.models import AuditEntry
from arena.core.admin_scoping import OrganiserScopedAdmin, scoped_filter


@admin.register(AuditEntry)
class AuditEntryAdmin(OrganiserScopedAdmin):
    organiser_can_add = False
    organiser_can_delete = False
    list_display = ("created_at", "actor", "action", "challenge", "target_type", "target_id")
    list_filter = ("action", scoped_filter("challenge"))
    readonly_fields = ("created_at", "actor", "action", "challenge", "target_type", "target_id", "details")

    def has_change_permission(self, request, obj=None) -> bool:
        return False
