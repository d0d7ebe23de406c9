from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import Prefetch

from arena.challenges.models import Licence
from arena.core.admin_scoping import OrganiserScopedAdmin, scoped_filter
from arena.core.errors import DomainError
from arena.participation import services
from arena.participation.models import ChallengeBar, LicenceAcceptance, Participation


class DecisionActionForm(ActionForm):
    reason = forms.CharField(required=False, label="Reason (sent to the team when denying or revoking)")


@admin.register(Participation)
class ParticipationAdmin(OrganiserScopedAdmin):
    organiser_can_add = False
    organiser_can_delete = False
    action_form = DecisionActionForm
    list_display = ("team", "challenge", "status", "licence_accepted", "signed_agreement", "requested_at",
                    "decided_at", "decided_by")
    list_filter = ("status", scoped_filter("challenge"))
    search_fields = ("team__name",)
    readonly_fields = ("team", "challenge", "status", "requested_at", "decided_at", "decided_by",
                       "decision_reason")
    actions = ["approve", "deny", "revoke"]

    def get_queryset(self, request):
        # The challenge licence only: datasets' own licences are decided on each acceptance.
        acceptances = (LicenceAcceptance.objects.filter(licence__dataset__isnull=True).select_related("licence")
                       .order_by("-licence__version"))
        return super().get_queryset(request).select_related("team", "challenge", "decided_by").prefetch_related(
            Prefetch("team__licence_acceptances", queryset=acceptances, to_attr="acceptances"),
            Prefetch("challenge__licences", queryset=Licence.objects.filter(dataset__isnull=True)),
        )

    @staticmethod
    def _latest(participation: Participation) -> LicenceAcceptance | None:
        acceptances = getattr(participation.team, "acceptances", None)
        return acceptances[0] if acceptances else None

    @admin.display(description="Licence accepted")
    def licence_accepted(self, participation: Participation) -> str:
        latest = self._latest(participation)
        current = max((lic.version for lic in participation.challenge.licences.all()), default=None)
        if latest is None:
            return "no"
        if latest.licence.version != current:
            return f"v{latest.licence.version} (current is v{current})"
        return f"v{latest.licence.version} by {latest.full_name}, {latest.affiliation}"

    @admin.display(description="Signed agreement", boolean=True)
    def signed_agreement(self, participation: Participation) -> bool | None:
        if not participation.challenge.requires_signed_agreement:
            return None
        latest = self._latest(participation)
        return bool(latest and latest.signed_agreement)

    def _decide(self, request, queryset, service, verb: str, **kwargs) -> None:
        try:
            done = sum(service(actor=request.user, participation=p, **kwargs) for p in queryset)
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return
        self.message_user(request, f"{verb} {done} team(s).")

    @admin.action(description="Approve the selected teams")
    def approve(self, request, queryset):
        self._decide(request, queryset, services.participation_approve, "Approved")

    @admin.action(description="Deny the selected teams (give a reason)")
    def deny(self, request, queryset):
        self._decide(request, queryset, services.participation_deny, "Denied",
                     reason=request.POST.get("reason", ""))

    @admin.action(description="Revoke access of the selected teams (give a reason)")
    def revoke(self, request, queryset):
        self._decide(request, queryset, services.participation_revoke, "Revoked",
                     reason=request.POST.get("reason", ""))


@admin.register(LicenceAcceptance)
class LicenceAcceptanceAdmin(OrganiserScopedAdmin):
    challenge_path = "team__challenge"
    organiser_can_add = False
    organiser_can_delete = False
    list_display = ("team", "licence", "dataset", "full_name", "affiliation", "accepted_on", "has_agreement",
                    "approved_at")
    list_filter = (scoped_filter("licence__challenge"),)
    list_select_related = ("team", "licence__dataset")
    readonly_fields = ("team", "licence", "accepted_by", "full_name", "affiliation", "accepted_on",
                       "signed_agreement", "agreement_size", "agreement_sha256", "agreement_uploaded_at",
                       "agreement_uploaded_by", "approved_at", "approved_by", "created_at")
    actions = ["approve"]

    @admin.display(description="Dataset")
    def dataset(self, acceptance: LicenceAcceptance) -> str:
        return acceptance.licence.dataset.title if acceptance.licence.dataset else "— (challenge licence)"

    @admin.action(description="Approve the selected acceptances of dataset licences")
    def approve(self, request, queryset):
        try:
            done = sum(services.licence_acceptance_approve(actor=request.user, acceptance=a) for a in queryset)
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return
        self.message_user(request, f"Approved {done} acceptance(s).")

    @admin.display(description="Signed agreement", boolean=True)
    def has_agreement(self, acceptance: LicenceAcceptance) -> bool:
        return bool(acceptance.signed_agreement)


class BarStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", "Barred"), ("lifted", "Lifted")]

    def queryset(self, request, queryset):
        if self.value() in ("active", "lifted"):
            return queryset.filter(lifted_at__isnull=self.value() == "active")
        return queryset


@admin.register(ChallengeBar)
class ChallengeBarAdmin(OrganiserScopedAdmin):
    """People barred from a challenge when their team's access was revoked; lift a bar to let them back."""

    organiser_can_add = False
    organiser_can_delete = False
    list_display = ("user", "challenge", "team_name", "reason", "created_at", "created_by", "lifted_at", "lifted_by")
    list_filter = (BarStatusFilter, scoped_filter("challenge"))
    search_fields = ("user__username", "team_name")
    list_select_related = ("user", "challenge", "created_by", "lifted_by")
    readonly_fields = ("challenge", "user", "team_name", "reason", "created_at", "created_by", "lifted_at",
                       "lifted_by")
    fields = readonly_fields
    actions = ["lift"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Lift the selected bars (the people may take part again)")
    def lift(self, request, queryset):
        try:
            done = sum(services.challenge_bar_lift(actor=request.user, bar=bar)
                       for bar in queryset.select_related("challenge", "user"))
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return
        self.message_user(request, f"Lifted {done} bar(s).")
