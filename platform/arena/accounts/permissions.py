"""The site right to host challenges: granted by a site admin, held as a permission on the person."""

from __future__ import annotations

from django.contrib.auth.models import Permission

HOST_CHALLENGES = "accounts.host_challenges"


def can_host_challenges(user) -> bool:
    """Whether ``user`` may create challenges (superusers always may)."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.has_perm(HOST_CHALLENGES))


def host_challenges_permission() -> Permission:
    app_label, codename = HOST_CHALLENGES.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)
