from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from arena.accounts.models import User


@admin.register(User)
class ArenaUserAdmin(UserAdmin):
    """Superusers only (the default Django permissions apply)."""

    fieldsets = UserAdmin.fieldsets + (("Profile", {"fields": ("affiliation",)}),)
