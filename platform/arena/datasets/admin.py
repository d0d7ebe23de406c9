from django.contrib import admin

from arena.core.admin_scoping import OrganiserScopedAdmin, ScopedTabularInline
from arena.datasets.models import Dataset, DatasetFile


class DatasetFileInline(ScopedTabularInline):
    model = DatasetFile
    parent_challenge_path = "challenge"
    fields = ("name", "kind", "file", "hidden_from_participants", "size", "sha256")
    readonly_fields = ("size", "sha256")


@admin.register(Dataset)
class DatasetAdmin(OrganiserScopedAdmin):
    list_display = ("title", "challenge", "order")
    list_filter = ("challenge",)
    prepopulated_fields = {"slug": ("title",)}
    inlines = [DatasetFileInline]
