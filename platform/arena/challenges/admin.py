from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import ngettext

from arena.accounts.permissions import can_host_challenges
from arena.challenges import scorer_fields, services
from arena.challenges.cloning import challenge_clone
from arena.challenges.forms import (
    ChallengeAdminForm,
    ChallengeCloneForm,
    PhaseAdminForm,
    PhaseInlineForm,
    TrackAdminForm,
    TrackAssetFormSet,
)
from arena.challenges.media import phase_container_inputs_sync
from arena.challenges.models import Announcement, Challenge, DatasetLicence, Licence, Phase, Track, TrackAsset
from arena.challenges.readiness import challenge_publish_check, challenge_readiness
from arena.core.admin_scoping import (
    OrganiserScopedAdmin,
    ScopedStackedInline,
    ScopedTabularInline,
    is_any_organiser,
    scoped_filter,
    time_column,
)
from arena.core.errors import DomainError
from arena.exports.admin import export_results, export_roster, export_submissions
from arena.factsheets.admin import QuestionInline
from arena.leaderboards.services import leaderboard_refresh
from arena.submissions.forms import BaselineForm
from arena.submissions.models import Submission
from arena.submissions.services.actions import submission_rerun
from arena.submissions.services.baselines import baseline_create
from arena.submissions.services.misconfiguration import submissions_requeue_misconfigured


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
    list_display = ("title", "slug", time_column("starts_at", "Starts"), time_column("ends_at", "Ends"),
                    "is_published", "requires_approval")
    list_filter = ("is_published", "requires_approval")
    search_fields = ("title", "slug")
    prepopulated_fields = {"slug": ("title",)}
    filter_horizontal = ("organisers",)
    inlines = [LicenceInline]
    actions = ["clone", export_roster]
    readonly_fields = ("readiness",)
    fieldsets = (
        (None, {"fields": ("title", "slug", "summary", "is_published", "publish_anyway")}),
        ("Readiness", {"fields": ("readiness",)}),
        ("Pages", {"fields": ("overview", "rules")}),
        ("Dates", {"fields": ("starts_at", "ends_at", "entry_deadline")}),
        ("Participation", {"fields": ("requires_approval", "requires_signed_agreement", "max_team_size")}),
        ("Organisers", {"fields": ("organisers", "add_organiser")}),
    )

    def has_module_permission(self, request) -> bool:
        return is_any_organiser(request.user) or _is_host(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        # A host without a challenge yet sees the (empty) list; rows stay scoped to their own challenges.
        if obj is None and _is_host(request.user):
            return True
        return super().has_view_permission(request, obj)

    has_change_permission = has_view_permission

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser or _is_host(request.user)

    def has_host_permission(self, request) -> bool:
        return _is_host(request.user)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            # The creator becomes the organiser; co-organisers are named exactly, never picked from a list.
            return (*self.fieldsets[:-1], ("Organisers", {"fields": ("add_organiser",)}))
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

    @admin.display(description="Readiness check")
    def readiness(self, challenge: Challenge) -> str:
        if challenge.pk is None:
            return "Checked once the challenge is saved."
        found = getattr(challenge, "checked_readiness", None) or challenge_readiness(challenge)
        if found.ready:
            return "Ready: every phase's references, the scorers' assets, the dates and the licence check out."
        return format_html("<ul>{}</ul>", format_html_join(
            "", "<li>{} <strong>{}</strong>: {}</li>",
            ((p.kind, p.title, p.message) for p in found.problems)))

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
        else:
            services.challenge_create(actor=request.user, challenge=obj)

    @admin.action(description="Clone the selected challenge as a new edition (unpublished)", permissions=["host"])
    def clone(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one challenge to clone.", level=messages.ERROR)
            return None
        source = queryset.get()
        form = ChallengeCloneForm(request.POST if "clone" in request.POST else None,
                                  initial={"title": source.title, "offset_days": 365})
        if form.is_valid():
            try:
                clone = challenge_clone(actor=request.user, challenge=source, **form.cleaned_data)
            except DomainError as exc:
                field = exc.details.get("field")
                form.add_error(field if field in form.fields else None, exc.message)
            else:
                self.message_user(request, f"Cloned {source.title} as {clone.title} ({clone.slug}), unpublished: "
                                           "upload its references and dataset files, then publish it.")
                return redirect(reverse("admin:challenges_challenge_change", args=[clone.pk]))
        return TemplateResponse(request, "admin/challenges/challenge/clone.html", {
            **self.admin_site.each_context(request), "title": f"Clone {source.title}", "opts": self.model._meta,
            "source": source, "form": form, "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }, status=400 if form.errors else 200)

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        _record_readiness_override(request, form, form.instance)
        user = form.cleaned_data.get("add_organiser")
        if user is None:
            return
        if services.challenge_add_organiser(actor=request.user, challenge=form.instance, user=user):
            self.message_user(request, f"{user.username} is now a co-organiser of {form.instance.title}.")
        else:
            self.message_user(request, f"{user.username} already organises {form.instance.title}.",
                              level=messages.WARNING)


def _is_host(user) -> bool:
    return user.is_staff and can_host_challenges(user)


def _record_readiness_override(request, form, challenge: Challenge) -> None:
    """The audited side of "publish even though not ready" (the form refused the change without it)."""
    readiness = getattr(form, "readiness", None)
    if readiness is not None and not readiness.ready:
        challenge_publish_check(challenge=challenge, actor=request.user, readiness=readiness,
                                override=form.cleaned_data.get("publish_anyway", False))


@admin.register(Announcement)
class AnnouncementAdmin(OrganiserScopedAdmin):
    """News for the teams: adding one publishes it on the challenge page and e-mails every team member who
    takes announcements by e-mail. Later edits correct the page only; nothing is sent again."""

    list_display = ("title", "challenge", time_column("published_at", "Published"), "created_by")
    list_filter = (scoped_filter("challenge"),)
    list_select_related = ("challenge", "created_by")
    search_fields = ("title",)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("challenge", "title", "body")
        return ("challenge", "title", "body", "published_at", "created_by")

    def get_readonly_fields(self, request, obj=None):
        return ("challenge", "published_at", "created_by") if obj is not None else ()

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        published = services.announcement_publish(actor=request.user, challenge=obj.challenge, title=obj.title,
                                                  body=obj.body)
        # The admin goes on with ``obj`` (its log entry and redirect): make it the stored row.
        obj.pk, obj.title, obj.published_at, obj.created_by = (
            published.pk, published.title, published.published_at, published.created_by)
        obj._state.adding, obj._state.db = False, published._state.db


class TrackAssetInline(ScopedTabularInline):
    model = TrackAsset
    formset = TrackAssetFormSet
    fields = ("path", "file", "size", "sha256")
    readonly_fields = ("size", "sha256")


class PhaseInline(ScopedTabularInline):
    model = Phase
    form = PhaseInlineForm
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
        ("Scoring", {"fields": ("scorer_key", "options_shown_for", "tie_break_metrics",
                                 "board_resamples", "board_alpha")}),
        ("Submissions", {"fields": (
            "accepts_files", "accepts_containers", "max_upload_mb", "allow_compressed",
            "max_per_day", "max_total", "max_in_flight",
        )}),
        ("Container limits", {"classes": ("collapse",), "fields": (
            "container_wall_seconds", "container_memory_mb", "container_cpus", "container_gpus",
            "container_pids", "max_image_mb", "show_container_logs",
        )}),
    )

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)  # the assets and phases are saved now
        for phase in form.instance.phases.all():
            submissions_requeue_misconfigured(phase=phase, actor=request.user)

    def get_fieldsets(self, request, obj=None):
        # The chosen scorer's options follow it, as TrackAdminForm chooses: the posted scorer, else the stored one.
        if request.method == "POST":
            key = request.POST.get("scorer_key")
        else:
            key = obj.scorer_key if obj is not None else request.GET.get("scorer_key")
        options = scorer_fields.option_field_names(scorer_fields.scorer_shown(key))
        return tuple(
            (name, {**spec, "fields": ("scorer_key", *options, "options_shown_for", "tie_break_metrics",
                                      "board_resamples", "board_alpha")})
            if name == "Scoring" else (name, spec) for name, spec in self.fieldsets)

    def get_form(self, request, obj=None, change=False, **kwargs):
        # The option fields are the form's own (it builds them for the scorer), not the model's.
        fields = kwargs.pop("fields", None) or flatten_fieldsets(self.get_fieldsets(request, obj))
        kwargs["fields"] = [f for f in fields if not f.startswith(scorer_fields.OPTION_FIELD_PREFIX)]
        return super().get_form(request, obj, change, **kwargs)


#: Phase settings that change what the stored boards hold.
RANKING_FIELDS = {"board_visibility", "frozen_at", "entry_rule", "max_selected"}


@admin.register(Phase)
class PhaseAdmin(OrganiserScopedAdmin):
    form = PhaseAdminForm
    challenge_path = "track__challenge"
    list_display = ("title", "track", "kind", time_column("opens_at", "Opens"), time_column("closes_at", "Closes"),
                    "board_visibility", "entry_rule", time_column("private_revealed_at", "Results revealed"))
    list_filter = ("kind", scoped_filter("track__challenge"))
    readonly_fields = ("private_revealed_at", "container_inputs_sha256", "media_check")
    actions = ["reveal_results", "hide_results", "rerun_all", export_submissions, export_results]
    inlines = [QuestionInline]

    fieldsets = (
        (None, {"fields": ("track", "title", "slug", "kind", "order", "opens_at", "closes_at", "publish_anyway")}),
        ("References", {"fields": ("reference_public", "reference_private", "candidates", "container_inputs",
                                   "container_inputs_sha256", "media_check", "condition_map")}),
        ("Robustness", {"fields": ("robustness_protocol",)}),
        ("Leaderboard", {"fields": ("board_visibility", "frozen_at", "reveal_at_close", "private_revealed_at",
                                    "entry_rule", "max_selected")}),
        ("Limits (empty: the track's)", {"fields": ("max_per_day", "max_total", "max_in_flight",
                                                    "max_refused_per_hour")}),
    )

    @admin.display(description="Media check")
    def media_check(self, obj):
        report = obj.container_inputs_media or {}
        if not obj.container_inputs or not obj.robustness_protocol:
            return "Made for phases with a robustness protocol and container inputs."
        if report.get("sha256") != obj.container_inputs_sha256:
            return "Not made yet for these inputs: the readiness check shows it once made."
        return (f"{report['wav_files']} WAV and {report['png_files']} PNG file(s), {report['problem_count']} "
                "unreadable (the readiness check lists them).")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "container_inputs" in form.changed_data or bool(obj.container_inputs) != bool(obj.container_inputs_sha256):
            phase_container_inputs_sync(phase=obj)
        if change and set(form.changed_data) & RANKING_FIELDS:
            leaderboard_refresh(phase_id=obj.pk)  # which entries count, or which board teams see, changed

    def get_urls(self):
        return [path("<int:phase_id>/add-baseline/", self.admin_site.admin_view(self.add_baseline_view),
                     name="challenges_phase_add_baseline"), *super().get_urls()]

    def add_baseline_view(self, request, phase_id: int):
        """Upload a baseline prediction file: checked and scored like an entry, shown marked and unranked."""
        phase = get_object_or_404(self.get_queryset(request).select_related("track__challenge"), pk=phase_id)
        if not self.has_change_permission(request, phase):
            raise PermissionDenied
        form = BaselineForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                baseline = baseline_create(actor=request.user, phase=phase, **form.cleaned_data)
            except DomainError as exc:
                field = exc.details.get("field")
                form.add_error(field if field in form.fields else None, exc.message)
            else:
                self.message_user(request, f"Baseline '{baseline.method_name}' (submission #{baseline.pk}) is "
                                           "queued for scoring; it shows on the board once scored.", messages.SUCCESS)
                return redirect(reverse("admin:challenges_phase_change", args=[phase.pk]))
        return TemplateResponse(request, "admin/challenges/phase/add_baseline.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "phase": phase, "form": form,
            "title": f"Add a baseline to {phase}",
        }, status=400 if form.errors else 200)

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        _record_readiness_override(request, form, form.instance.track.challenge)
        submissions_requeue_misconfigured(phase=form.instance, actor=request.user,
                                          readiness=getattr(form, "readiness", None))

    @admin.action(description="Reveal the results (private board; scores of hidden and frozen boards)")
    def reveal_results(self, request, queryset):
        still_open = [p for p in queryset.select_related("track__challenge") if p.closes_at > timezone.now()]
        if still_open and request.POST.get("post") != "yes":
            # Teams may still be submitting: the organiser confirms on a page of its own.
            return TemplateResponse(request, "challenges/admin_reveal_confirm.html", {
                **self.admin_site.each_context(request),
                "title": "Reveal the results of phases that are still open?",
                "opts": self.model._meta,
                "phases": queryset.select_related("track__challenge"),
                "still_open": still_open,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            })
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
