"""Exports in the admin: the scoped list with download links, and the actions that request them
(added to the challenge and phase admins)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from arena.challenges.visibility import visible_boards
from arena.core.admin_scoping import OrganiserScopedAdmin, scoped_filter
from arena.core.errors import DomainError
from arena.exports.models import Export, ExportKind, ExportStatus
from arena.exports.services import RESULT_SPLITS, export_download_link, export_request


def _queued(modeladmin, request, exports: list[Export]) -> None:
    url = reverse("admin:exports_export_changelist")
    modeladmin.message_user(request, format_html(
        "Queued {} export(s); they appear under <a href=\"{}\">Exports</a> with a download link when ready.",
        len(exports), url))


def _request_all(modeladmin, request, requests: list[dict]) -> None:
    exports = []
    for kwargs in requests:
        try:
            exports.append(export_request(actor=request.user, **kwargs))
        except DomainError as exc:
            modeladmin.message_user(request, exc.message, level=messages.ERROR)
    if exports:
        _queued(modeladmin, request, exports)


@admin.action(description="Export roster (CSV: teams, members, licence acceptances)")
def export_roster(modeladmin, request, queryset) -> None:
    _request_all(modeladmin, request, [{"challenge": c, "kind": ExportKind.ROSTER} for c in queryset])


@admin.action(description="Export submissions (zip)")
def export_submissions(modeladmin, request, queryset) -> None:
    _request_all(modeladmin, request, [
        {"challenge": p.track.challenge, "kind": ExportKind.SUBMISSIONS, "phase": p}
        for p in queryset.select_related("track__challenge")])


@admin.action(description="Export results table (CSV, public and private boards)")
def export_results(modeladmin, request, queryset) -> None:
    _request_all(modeladmin, request, [
        {"challenge": p.track.challenge, "kind": ExportKind.RESULTS, "phase": p, "split": split}
        for p in queryset.select_related("track__challenge")
        for split in RESULT_SPLITS if split in visible_boards(p, organiser=True)])


@admin.register(Export)
class ExportAdmin(OrganiserScopedAdmin):
    """Exports are made by the actions above or the API; here they are listed and downloaded."""

    organiser_can_add = False
    organiser_can_delete = False
    list_display = ("id", "challenge", "phase", "kind", "split", "status", "requested_by", "created_at",
                    "finished_at", "size")
    list_filter = (scoped_filter("challenge"), "kind", "status")
    list_select_related = ("challenge", "phase__track", "requested_by")
    fields = ("challenge", "phase", "kind", "split", "status", "requested_by", "created_at", "finished_at",
              "size", "sha256", "error")
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False  # requested through the actions, which check and audit

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_list_display(self, request):
        # The link is signed for the person looking at the list (admin instances are shared between requests).
        @admin.display(description="Download")
        def download(export: Export) -> str:
            if export.status != ExportStatus.READY:
                return "-"
            link = export_download_link(actor=request.user, export=export)
            return format_html("<a href=\"{}\">download</a> (until {} UTC)", link.url, f"{link.expires_at:%H:%M}")

        return (*self.list_display, download)
