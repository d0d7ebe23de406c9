"""Creating, joining and leaving teams."""

from __future__ import annotations

from datetime import UTC

from django.db import IntegrityError, transaction
from django.utils import timezone

from arena.audit.services import audit_record
from arena.challenges.models import Challenge
from arena.challenges.selectors import challenge_is_visible_to
from arena.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from arena.participation.models import Participation, ParticipationStatus
from arena.participation.selectors import ensure_not_barred
from arena.teams.models import Team, TeamMembership, TeamRole, new_invite_code


def _no_such_code() -> NotFound:
    # The same answer for a mistyped code and for a code of another (maybe unpublished) challenge.
    return NotFound(
        "No team has that invite code; check it with the team's owner (codes are case-sensitive).",
        code="invalid_invite_code", details={"field": "invite_code"},
    )


def _ensure_visible(user, challenge: Challenge) -> None:
    if not challenge_is_visible_to(challenge, user):
        raise NotFound("No such challenge.", code="not_found")


def _ensure_open(challenge: Challenge) -> None:
    """Refuse forming or joining a team once the challenge has ended or its entry deadline has passed."""
    now = timezone.now()
    if challenge.ends_at <= now:
        raise DomainError(
            f"'{challenge.title}' has ended; teams can no longer be formed or changed.",
            code="challenge_ended",
        )
    if challenge.entry_deadline is not None and challenge.entry_deadline <= now:
        deadline = challenge.entry_deadline.astimezone(UTC)
        raise PermissionDenied(
            f"Entry to '{challenge.title}' closed at {deadline:%Y-%m-%d %H:%M} UTC; "
            "no new teams or members are accepted.",
            code="entry_closed",
        )


def _ensure_no_team(user, challenge: Challenge) -> None:
    existing = TeamMembership.objects.filter(user=user, challenge=challenge).select_related("team").first()
    if existing:
        raise Conflict(
            f"You are already in team '{existing.team.name}' for this challenge; "
            "leave it first to create or join another.",
            code="already_in_team",
        )


@transaction.atomic
def team_create(*, user, challenge: Challenge, name: str) -> Team:
    """Create a team with ``user`` as its owner, and the team's participation record."""
    name = " ".join(name.split())
    if not name:
        raise DomainError("Give your team a name.", code="invalid", details={"field": "name"})
    _ensure_visible(user, challenge)
    _ensure_open(challenge)
    ensure_not_barred(user, challenge)
    _ensure_no_team(user, challenge)
    if Team.objects.filter(challenge=challenge, name__iexact=name).exists():
        raise Conflict(
            f"A team called '{name}' already exists in this challenge; choose another name.",
            code="team_name_taken", details={"field": "name"},
        )
    try:
        with transaction.atomic():
            team = Team.objects.create(challenge=challenge, name=name, created_by=user)
            TeamMembership.objects.create(team=team, user=user, challenge=challenge, role=TeamRole.OWNER)
    except IntegrityError:
        # A concurrent request won the race for the name or the membership.
        raise Conflict(
            "That team name was just taken, or you just joined a team; reload and try again.",
            code="conflict",
        ) from None
    Participation.objects.create(
        team=team, challenge=challenge,
        status=ParticipationStatus.PENDING if challenge.requires_approval else ParticipationStatus.APPROVED,
    )
    audit_record(actor=user, action="team.create", target=team, challenge=challenge, details={"name": name})
    return team


@transaction.atomic
def team_join(*, user, challenge: Challenge, invite_code: str) -> Team:
    """Join the team of ``challenge`` whose invite code this is, within the challenge's team-size limit.

    Codes of other challenges' teams, and codes of a challenge the user cannot see, are refused
    as unknown.
    """
    if not challenge_is_visible_to(challenge, user):
        raise _no_such_code()
    _ensure_open(challenge)
    ensure_not_barred(user, challenge)
    try:
        # The row lock serialises joins, so the size limit holds under concurrent requests.
        team = Team.objects.select_for_update(no_key=True).get(challenge=challenge, invite_code=invite_code.strip())
    except Team.DoesNotExist:
        raise _no_such_code() from None
    _ensure_no_team(user, challenge)
    size = team.memberships.count()
    if size >= challenge.max_team_size:
        raise Conflict(
            f"Team '{team.name}' is full: this challenge allows at most {challenge.max_team_size} members.",
            code="team_full",
        )
    TeamMembership.objects.create(team=team, user=user, challenge=challenge, role=TeamRole.MEMBER)
    audit_record(actor=user, action="team.join", target=team, challenge=challenge)
    return team


@transaction.atomic
def team_leave(*, user, team: Team) -> None:
    """Leave a team. The last member cannot leave a team that has submissions."""
    team = Team.objects.select_for_update().get(pk=team.pk)
    membership = TeamMembership.objects.filter(team=team, user=user).first()
    if membership is None:
        raise NotFound("You are not a member of this team.", code="not_a_member")
    others = team.memberships.exclude(pk=membership.pk).order_by("joined_at")
    if not others.exists() and team.submissions.exists():
        raise Conflict(
            "You are the last member of a team with submissions; the team's entries must keep an owner. "
            "Invite someone else first, or ask the organisers.",
            code="last_member",
        )
    membership.delete()
    if membership.role == TeamRole.OWNER and others.exists():
        successor = others.first()
        successor.role = TeamRole.OWNER
        successor.save(update_fields=["role"])
    audit_record(actor=user, action="team.leave", target=team, challenge=team.challenge)
    if not others.exists():
        team.delete()


@transaction.atomic
def team_rotate_invite_code(*, user, team: Team) -> str:
    if not TeamMembership.objects.filter(team=team, user=user, role=TeamRole.OWNER).exists():
        raise DomainError("Only the team's owner can change its invite code.", code="not_owner", status=403)
    team.invite_code = new_invite_code()
    team.save(update_fields=["invite_code"])
    audit_record(actor=user, action="team.rotate_invite", target=team, challenge=team.challenge)
    return team.invite_code


@transaction.atomic
def team_membership_set_announcement_emails(*, user, team: Team, enabled: bool) -> bool:
    """Turn the organisers' announcement e-mails on or off for ``user`` in ``team``; False when unchanged."""
    updated = TeamMembership.objects.filter(team=team, user=user).exclude(announcement_emails=enabled).update(
        announcement_emails=enabled)
    if not updated:
        if not TeamMembership.objects.filter(team=team, user=user).exists():
            raise NotFound("You are not a member of this team.", code="not_a_member")
        return False
    audit_record(actor=user, action="team.announcement_emails", target=team, challenge=team.challenge,
                 details={"enabled": enabled})
    return True
