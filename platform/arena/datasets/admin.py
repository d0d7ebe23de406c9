from datetime import UTC

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from arena.core.admin_scoping import OrganiserScopedAdmin, ScopedTabularInline, scoped_filter
from arena.core.errors import DomainError
from arena.core.storage import supports_direct_upload
from arena.datasets import services
from arena.datasets.forms import RegisterStoredFileForm, UploadTicketForm
from arena.datasets.models import Dataset, DatasetFile, DownloadGrant


class DatasetFileInline(ScopedTabularInline):
    model = DatasetFile
    parent_challenge_path = "challenge"
    fields = ("name", "kind", "file", "hidden_from_participants", "release_at", "release_status", "size", "sha256")
    readonly_fields = ("release_status", "size", "sha256")

    @admin.display(description="Release")
    def release_status(self, dataset_file: DatasetFile) -> str:
        if dataset_file.pk is None:
            return "-"
        if dataset_file.release_at is None or dataset_file.release_at <= timezone.now():
            when = dataset_file.release_at or dataset_file.created_at
            return f"released {when.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
        return "not yet released"


@admin.register(Dataset)
class DatasetAdmin(OrganiserScopedAdmin):
    list_display = ("title", "challenge", "order")
    list_filter = (scoped_filter("challenge"),)
    prepopulated_fields = {"slug": ("title",)}
    inlines = [DatasetFileInline]
    change_form_template = "datasets/admin_dataset_change_form.html"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:dataset_id>/register-file/", wrap(self.register_file_view),
                 name="datasets_dataset_register_file"),
            path("<int:dataset_id>/direct-upload/", wrap(self.direct_upload_view),
                 name="datasets_dataset_direct_upload"),
            path("<int:dataset_id>/direct-upload/ticket/", wrap(require_POST(self.upload_ticket_view)),
                 name="datasets_dataset_upload_ticket"),
            *super().get_urls(),
        ]

    def _dataset(self, request, dataset_id: int) -> Dataset:
        dataset = get_object_or_404(self.get_queryset(request), pk=dataset_id)
        if not self.has_change_permission(request, dataset):
            raise PermissionDenied
        return dataset

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["direct_upload"] = supports_direct_upload()
        return super().render_change_form(request, context, add, change, form_url, obj)

    def register_file_view(self, request, dataset_id: int):
        """Register an object already in storage: checks it exists, records its size and sha256."""
        dataset = self._dataset(request, dataset_id)
        form = RegisterStoredFileForm(request.POST or None, initial={"key": request.GET.get("key", "")})
        if request.method == "POST" and form.is_valid():
            try:
                dataset_file = services.dataset_file_register(actor=request.user, dataset=dataset, **form.cleaned_data)
            except DomainError as exc:
                form.add_error(exc.details.get("field"), exc.message)
            else:
                self.message_user(request, f"Registered {dataset_file.name} ({dataset_file.size} bytes, "
                                           f"sha256 {dataset_file.sha256}).", messages.SUCCESS)
                return redirect(reverse("admin:datasets_dataset_change", args=[dataset.pk]))
        return TemplateResponse(request, "datasets/admin_register_file.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "dataset": dataset,
            "form": form, "title": f"Register a stored file in {dataset.title}",
        }, status=400 if form.errors else 200)

    def direct_upload_view(self, request, dataset_id: int):
        """A page whose script posts one large file straight to the bucket, then registers it."""
        dataset = self._dataset(request, dataset_id)
        return TemplateResponse(request, "datasets/admin_direct_upload.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "dataset": dataset,
            "form": RegisterStoredFileForm(), "available": supports_direct_upload(),
            "title": f"Upload a large file to {dataset.title}",
        })

    def upload_ticket_view(self, request, dataset_id: int):
        dataset = self._dataset(request, dataset_id)
        form = UploadTicketForm(request.POST)
        if not form.is_valid():
            return JsonResponse({"code": "invalid", "message": "Give the file name."}, status=400)
        try:
            ticket = services.dataset_file_upload_ticket(actor=request.user, dataset=dataset,
                                                         filename=form.cleaned_data["filename"])
        except DomainError as exc:
            return JsonResponse({"code": exc.code, "message": exc.message}, status=exc.status)
        return JsonResponse({"url": ticket.url, "fields": ticket.fields, "key": ticket.key,
                             "expires_at": ticket.expires_at.isoformat()})


@admin.register(DownloadGrant)
class DownloadGrantAdmin(OrganiserScopedAdmin):
    """The log of every download link issued; read-only."""

    organiser_can_add = False
    organiser_can_delete = False
    list_display = ("issued_at", "user", "team_name", "file_name", "ip_address", "channel", "expires_at")
    list_filter = (scoped_filter("challenge"), "channel")
    search_fields = ("user__username", "team_name", "file_name", "ip_address")
    list_select_related = ("user",)
    readonly_fields = ("challenge", "dataset_file", "file_name", "storage_key", "user", "team", "team_name",
                       "issued_at", "expires_at", "ip_address", "user_agent", "channel")

    def has_change_permission(self, request, obj=None) -> bool:
        return False
