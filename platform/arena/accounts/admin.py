from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth.admin import UserAdmin

from arena.accounts import services
from arena.accounts.models import HostingRequest, User
from arena.core.errors import DomainError


@admin.register(User)
class ArenaUserAdmin(UserAdmin):
    """Superusers only (the default Django permissions apply)."""

    fieldsets = UserAdmin.fieldsets + (("Profile", {"fields": ("affiliation",)}),)


class HostingDecisionForm(ActionForm):
    reason = forms.CharField(required=False, label="Reason (sent to the person when denying)")


@admin.register(HostingRequest)
class HostingRequestAdmin(admin.ModelAdmin):
    """Requests to host challenges: site admins (superusers) grant or deny them, nobody else sees them."""

    action_form = HostingDecisionForm
    actions = ["grant", "deny"]
    list_display = ("user", "affiliation", "challenge_name", "created_at", "granted", "decided_at", "decided_by")
    list_filter = ("granted",)
    list_select_related = ("user", "decided_by")
    search_fields = ("user__username", "user__email", "challenge_name", "affiliation")
    readonly_fields = ("user", "affiliation", "challenge_name", "reason", "created_at", "granted", "decided_at",
                       "decided_by")

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    has_change_permission = has_view_permission

    def has_add_permission(self, request) -> bool:
        return False  # people ask on their hosting page

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # decisions stay on record

    def _decide(self, request, queryset, service, verb: str, **kwargs) -> None:
        try:
            done = sum(service(actor=request.user, hosting=h, **kwargs) for h in queryset)
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return
        skipped = queryset.count() - done
        note = f" {skipped} already decided, left as they were." if skipped else ""
        self.message_user(request, f"{verb} {done} request(s).{note}",
                          level=messages.WARNING if skipped else messages.SUCCESS)

    @admin.action(description="Grant: the requesters may host challenges (e-mailed)")
    def grant(self, request, queryset):
        self._decide(request, queryset, services.hosting_request_grant, "Granted")

    @admin.action(description="Deny the selected requests (give a reason; e-mailed)")
    def deny(self, request, queryset):
        self._decide(request, queryset, services.hosting_request_deny, "Denied",
                     reason=request.POST.get("reason", ""))
