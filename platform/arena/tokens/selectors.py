"""Reads for the token page and the ``/me`` endpoint."""

from __future__ import annotations

from django.db.models import QuerySet

from arena.teams.models import TeamMembership
from arena.tokens.models import ApiToken


def tokens_of(user) -> QuerySet[ApiToken]:
    """Every token of ``user``, newest first; revoked ones stay listed as history."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def memberships_of(user) -> QuerySet[TeamMembership]:
    """The user's team memberships with their team, challenge and participation, by challenge."""
    return (TeamMembership.objects.filter(user=user)
            .select_related("team__participation", "challenge")
            .order_by("challenge__slug"))
