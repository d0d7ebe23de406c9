from __future__ import annotations

from arena.teams.models import Team, TeamMembership


def team_of(user, challenge) -> Team | None:
    """The team ``user`` acts for in ``challenge``, or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    membership = (
        TeamMembership.objects.filter(user=user, challenge=challenge).select_related("team").first()
    )
    return membership.team if membership else None
