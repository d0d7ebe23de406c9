from django.contrib import admin, messages
from django.utils.translation import ngettext

from arena.challenges import services
from arena.challenges.forms import ChallengeAdminForm, PhaseAdminForm, TrackAdminForm
from arena.challenges.models import Challenge, DatasetLicence, Licence, Phase, Track, TrackAsset
from arena.core.admin_scoping import OrganiserScopedAdmin, ScopedStackedInline, ScopedTabularInline, scoped_filter
from arena.core.errors import DomainError
from arena.leaderboards.services import leaderboard_refresh
from arena.submissions.models import Submission
from arena.submissions.services.actions import submission_rerun


class LicenceInline(ScopedStackedInline):
    """Versions of the challenge licence; datasets' own licences are edited on each dataset."""

    model = Licence
    parent_challenge_path = ""
    fields = ("version", "title", "text")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(dataset__isnull=True)


@admin.register(DatasetLicence)
class DatasetLicenceAdmin(OrganiserScopedAdmin):
    """A dataset's own licence, one row per version: downloads of the dataset's files need the team's
    acceptance of its current version in addition to the challenge licence."""

    organiser_can_delete = False
    list_display = ("dataset", "version", "title", "requires_signed_agreement", "requires_approval",
                    "published_at")
    list_filter = (scoped_filter("challenge"),)
    list_select_related = ("dataset",)
    fields = ("dataset", "version", "title", "text", "requires_signed_agreement", "requires_approval")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(dataset__isnull=False)

    def get_readonly_fields(self, request, obj=None):
        return ("dataset", "version") if obj is not None else ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "dataset":
            field.required = True
        return field

    def save_model(self, request, obj, form, change) -> None:
        obj.challenge = obj.dataset.challenge
        super().save_model(request, obj, form, change)


@admin.register(Challenge)
class ChallengeAdmin(OrganiserScopedAdmin):
    challenge_path = ""
    organiser_can_add = False
    organiser_can_delete = False
    form = ChallengeAdminForm
    list_display = ("title", "slug", "starts_at", "ends_at", "is_published", "requires_approval")
    list_filter = ("is_published", "requires_approval")
    search_fields = ("title", "slug")
    prepopulated_fields = {"slug": ("title",)}
    filter_horizontal = ("organisers",)
    inlines = [LicenceInline]
    fieldsets = (
        (None, {"fields": ("title", "slug", "summary", "is_published")}),
        ("Pages", {"fields": ("overview", "rules")}),
        ("Dates", {"fields": ("starts_at", "ends_at", "entry_deadline")}),
        ("Participation", {"fields": ("requires_approval", "requires_signed_agreement", "max_team_size")}),
        ("Organisers", {"fields": ("organisers", "add_organiser")}),
    )

    def get_fieldsets(self, request, obj=None):
        if request.user.is_superuser:
            return self.fieldsets
        # Organisers name a co-organiser exactly; they are never shown the list of accounts.
        return (*self.fieldsets[:-1], ("Organisers", {"fields": ("current_organisers", "add_organiser")}))

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        return readonly if request.user.is_superuser else (*readonly, "current_organisers")

    @admin.display(description="Organisers")
    def current_organisers(self, challenge: Challenge) -> str:
        return ", ".join(challenge.organisers.order_by("username").values_list("username", flat=True)) or "-"

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        user = form.cleaned_data.get("add_organiser")
        if user is None:
            return
        if services.challenge_add_organiser(actor=request.user, challenge=form.instance, user=user):
            self.message_user(request, f"{user.username} is now a co-organiser of {form.instance.title}.")
        else:
            self.message_user(request, f"{user.username} already organises {form.instance.title}.",
                              level=messages.WARNING)


class TrackAssetInline(ScopedTabularInline):
    model = TrackAsset
    fields = ("path", "file", "size", "sha256")
    readonly_fields = ("size", "sha256")


class PhaseInline(ScopedTabularInline):
    model = Phase
    fields = ("title", "slug", "kind", "order", "opens_at", "closes_at")
    show_change_link = True


@admin.register(Track)
class TrackAdmin(OrganiserScopedAdmin):
    form = TrackAdminForm
    list_display = ("title", "challenge", "scorer_key", "accepts_files", "accepts_containers")
    list_filter = (scoped_filter("challenge"), "scorer_key")
    search_fields = ("title", "slug")
    prepopulated_fields = {"slug": ("title",)}
    inlines = [TrackAssetInline, PhaseInline]
    fieldsets = (
        (None, {"fields": ("challenge", "title", "slug", "order", "summary", "description")}),
        ("Scoring", {"fields": ("scorer_key", "scorer_options", "tie_break_metrics")}),
        ("Submissions", {"fields": (
            "accepts_files", "accepts_containers", "max_upload_mb", "allow_compressed",
            "max_per_day", "max_total", "max_in_flight",
        )}),
        ("Container limits", {"classes": ("collapse",), "fields": (
            "container_wall_seconds", "container_memory_mb", "container_cpus", "container_gpus",
            "container_pids", "max_image_mb", "show_container_logs",
        )}),
    )


#: Phase settings that change what the stored boards hold.
RANKING_FIELDS = {"board_visibility", "frozen_at", "entry_rule", "max_selected"}


@admin.register(Phase)
class PhaseAdmin(OrganiserScopedAdmin):
    form = PhaseAdminForm
    challenge_path = "track__challenge"
    list_display = ("title", "track", "kind", "opens_at", "closes_at", "board_visibility", "entry_rule",
                    "private_revealed_at")
    list_filter = ("kind", scoped_filter("track__challenge"))
    readonly_fields = ("private_revealed_at",)
    actions = ["reveal_results", "hide_results", "rerun_all"]

    fieldsets = (
        (None, {"fields": ("track", "title", "slug", "kind", "order", "opens_at", "closes_at")}),
        ("References", {"fields": ("reference_public", "reference_private", "candidates", "container_inputs")}),
        ("Leaderboard", {"fields": ("board_visibility", "frozen_at", "reveal_at_close", "private_revealed_at",
                                    "entry_rule", "max_selected")}),
        ("Limits (empty: the track's)", {"fields": ("max_per_day", "max_total", "max_in_flight",
                                                    "max_refused_per_hour")}),
    )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and set(form.changed_data) & RANKING_FIELDS:
            leaderboard_refresh(phase_id=obj.pk)  # which entries count, or which board teams see, changed

    @admin.action(description="Reveal the results (private board; scores of hidden and frozen boards)")
    def reveal_results(self, request, queryset):
        done = sum(services.phase_reveal_results(actor=request.user, phase=p) for p in queryset)
        self.message_user(request, ngettext("Revealed %d phase.", "Revealed %d phases.", done) % done)

    @admin.action(description="Hide the results again (also stops a reveal at close)")
    def hide_results(self, request, queryset):
        done = sum(services.phase_hide_results(actor=request.user, phase=p) for p in queryset)
        self.message_user(request, ngettext("Hid %d phase.", "Hid %d phases.", done) % done)

    @admin.action(description="Re-run every submission of these phases")
    def rerun_all(self, request, queryset):
        try:
            count = submission_rerun(
                actor=request.user,
                submissions=Submission.objects.filter(phase__in=queryset, kind="file")
                .exclude(disqualified_at__isnull=False).select_related("phase__track__challenge"),
            )
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return
        self.message_user(request, f"Queued {count} submission(s) for scoring.")
