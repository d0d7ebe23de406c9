"""Who may act on a challenge. Superusers may do everything; organisers act on their own challenges."""

from __future__ import annotations

from arena.core.errors import PermissionDenied


def is_organiser(user, challenge) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    if challenge is None:
        return False
    return challenge.organisers.filter(pk=user.pk).exists()


def ensure_organiser(user, challenge) -> None:
    if not is_organiser(user, challenge):
        raise PermissionDenied(
            f"Only the organisers of '{challenge.title}' may do this.", code="not_organiser"
        )
