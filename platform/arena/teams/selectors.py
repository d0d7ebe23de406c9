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


def announcement_recipients(challenge) -> list[tuple[Team, list[str]]]:
    """Each team of ``challenge`` with the e-mail addresses of its active members who take the
    organisers' announcements by e-mail; teams left with nobody are omitted."""
    memberships = (
        TeamMembership.objects.filter(challenge=challenge, announcement_emails=True, user__is_active=True)
        .exclude(user__email="").select_related("team", "user").order_by("team__name", "team_id", "joined_at")
    )
    by_team: dict[int, tuple[Team, list[str]]] = {}
    for membership in memberships:
        by_team.setdefault(membership.team_id, (membership.team, []))[1].append(membership.user.email)
    return list(by_team.values())
