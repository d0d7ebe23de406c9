"""Reads of exports as a given person may see them: organisers, their own challenges' only."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from arena.challenges.models import Challenge
from arena.challenges.selectors import challenges_organised_by
from arena.exports.models import Export


def exports_visible_to(user: Any) -> QuerySet[Export]:
    if not getattr(user, "is_authenticated", False):
        return Export.objects.none()
    return Export.objects.filter(challenge__in=challenges_organised_by(user).values("pk"))


def organised_challenge(user: Any, slug: str) -> Challenge | None:
    """The challenge ``slug`` if ``user`` organises it, else None (unknown and not theirs look the same)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return challenges_organised_by(user).filter(slug=slug).first()
