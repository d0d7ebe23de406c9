from django.contrib import admin

from arena.core.admin_scoping import OrganiserScopedAdmin, ScopedTabularInline, scoped_filter
from arena.teams.models import Team, TeamMembership


class MembershipInline(ScopedTabularInline):
    model = TeamMembership
    fields = ("user", "role", "joined_at")
    readonly_fields = ("user", "role", "joined_at")
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Team)
class TeamAdmin(OrganiserScopedAdmin):
    organiser_can_add = False
    organiser_can_delete = False
    list_display = ("name", "challenge", "created_at")
    list_filter = (scoped_filter("challenge"),)
    search_fields = ("name", "memberships__user__username")
    readonly_fields = ("challenge", "invite_code", "created_by", "created_at")
    fields = ("name", "challenge", "invite_code", "created_by", "created_at")
    inlines = [MembershipInline]
