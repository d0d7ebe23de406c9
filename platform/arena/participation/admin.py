from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm

from arena.core.admin_scoping import OrganiserScopedAdmin
from arena.core.errors import DomainError
from arena.participation import services
from arena.participation.models import LicenceAcceptance, Participation


class DecisionActionForm(ActionForm):
    reason = forms.CharField(required=False, label="Reason (sent to the team when denying)")


@admin.register(Participation)
class ParticipationAdmin(OrganiserScopedAdmin):
    organiser_can_add = False
    organiser_can_delete = False
    action_form = DecisionActionForm
    list_display = ("team", "challenge", "status", "requested_at", "decided_at", "decided_by")
    list_filter = ("status", "challenge")
    search_fields = ("team__name",)
    readonly_fields = ("team", "challenge", "status", "requested_at", "decided_at", "decided_by",
                       "decision_reason")
    actions = ["approve", "deny"]

    @admin.action(description="Approve the selected teams")
    def approve(self, request, queryset):
        done = sum(services.participation_approve(actor=request.user, participation=p) for p in queryset)
        self.message_user(request, f"Approved {done} team(s).")

    @admin.action(description="Deny the selected teams (give a reason)")
    def deny(self, request, queryset):
        reason = request.POST.get("reason", "")
        try:
            done = sum(
                services.participation_deny(actor=request.user, participation=p, reason=reason)
                for p in queryset
            )
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return
        self.message_user(request, f"Denied {done} team(s).")


@admin.register(LicenceAcceptance)
class LicenceAcceptanceAdmin(OrganiserScopedAdmin):
    challenge_path = "team__challenge"
    organiser_can_add = False
    organiser_can_delete = False
    list_display = ("team", "licence", "full_name", "affiliation", "accepted_on")
    list_filter = ("licence__challenge",)
    readonly_fields = ("team", "licence", "accepted_by", "full_name", "affiliation", "accepted_on",
                       "signed_agreement", "created_at")
