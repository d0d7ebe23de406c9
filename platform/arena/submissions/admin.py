from django.contrib import admin, messages

from arena.core.admin_scoping import OrganiserScopedAdmin, ScopedTabularInline, scoped_filter
from arena.core.errors import DomainError
from arena.factsheets.admin import AnswerInline
from arena.participation.admin import DecisionActionForm
from arena.submissions.models import RefusedUpload, Submission, SubmissionScore
from arena.submissions.services.actions import submission_cancel, submission_disqualify, submission_rerun


class ScoreInline(ScopedTabularInline):
    model = SubmissionScore
    parent_challenge_path = "phase__track__challenge"
    fields = ("split", "score", "metrics", "computed_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Submission)
class SubmissionAdmin(OrganiserScopedAdmin):
    challenge_path = "phase__track__challenge"
    organiser_can_add = False
    organiser_can_delete = False
    list_display = ("id", "method_name", "team", "phase", "kind", "status", "created_at", "is_baseline")
    list_filter = ("status", "kind", "is_baseline", scoped_filter("phase__track__challenge"))
    search_fields = ("method_name", "team__name", "public_id")
    list_select_related = ("team", "phase__track__challenge")
    inlines = [ScoreInline, AnswerInline]
    action_form = DecisionActionForm
    actions = ["rerun", "cancel", "disqualify"]
    readonly_fields = (
        "public_id", "phase", "team", "submitted_by", "kind", "status", "status_changed_at", "file",
        "file_name", "file_size", "file_sha256", "image_reference", "image_digest", "method_name",
        "method_description", "paper_url", "code_url", "is_baseline", "is_selected", "disqualified_at",
        "disqualified_reason", "error_message", "error_detail", "logs", "attempts", "created_at",
        "queued_at", "started_at", "scoring_started_at", "finished_at", "claim_token", "dispatched_at",
        "dispatch_count", "lease_expires_at",
    )

    def _run(self, request, service, queryset, verb: str) -> None:
        try:
            count = service(actor=request.user, submissions=queryset.select_related("phase__track__challenge"))
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return
        self.message_user(request, f"{verb} {count} submission(s).")

    @admin.action(description="Re-run the selected submissions")
    def rerun(self, request, queryset):
        self._run(request, submission_rerun, queryset, "Queued")

    @admin.action(description="Cancel the selected submissions")
    def cancel(self, request, queryset):
        self._run(request, submission_cancel, queryset, "Cancelled")

    @admin.action(description="Disqualify the selected submissions (give a reason)")
    def disqualify(self, request, queryset):
        reason = request.POST.get("reason", "")
        self._run(request, lambda **kw: submission_disqualify(reason=reason, **kw), queryset, "Disqualified")


@admin.register(RefusedUpload)
class RefusedUploadAdmin(OrganiserScopedAdmin):
    """Uploads refused for their content: teams that keep sending broken files (or probe) show here."""

    challenge_path = "phase__track__challenge"
    organiser_can_add = False
    organiser_can_delete = False
    list_display = ("created_at", "team", "phase", "code", "user")
    list_filter = ("code", scoped_filter("phase__track__challenge"))
    search_fields = ("team__name",)
    list_select_related = ("team", "phase__track", "user")
    readonly_fields = ("team", "phase", "user", "code", "created_at")

    def has_change_permission(self, request, obj=None) -> bool:
        return False
