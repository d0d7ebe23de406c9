from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from arena.audit.models import AuditEntry
from arena.core.errors import Conflict, DomainError, NotFound
from arena.participation.models import ParticipationStatus
from arena.teams import services
from arena.teams.models import Team, TeamMembership, TeamRole
from tests.platform.factories import ChallengeFactory, SubmissionFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_create_makes_owner_participation_and_audit():
    user = UserFactory()
    challenge = ChallengeFactory(requires_approval=True)
    team = services.team_create(user=user, challenge=challenge, name="  Deep   Feelings ")
    assert team.name == "Deep Feelings"
    membership = TeamMembership.objects.get(team=team)
    assert (membership.user, membership.role) == (user, TeamRole.OWNER)
    assert team.participation.status == ParticipationStatus.PENDING
    assert AuditEntry.objects.filter(action="team.create", target_id=str(team.pk)).count() == 1


def test_auto_approved_when_the_challenge_needs_no_approval():
    team = services.team_create(user=UserFactory(), challenge=ChallengeFactory(), name="A")
    assert team.participation.status == ParticipationStatus.APPROVED


def test_team_names_are_unique_per_challenge_ignoring_case():
    challenge = ChallengeFactory()
    services.team_create(user=UserFactory(), challenge=challenge, name="Valence")
    with pytest.raises(Conflict, match="already exists"):
        services.team_create(user=UserFactory(), challenge=challenge, name="VALENCE")
    assert Team.objects.filter(challenge=challenge).count() == 1
    # Another challenge may reuse the name.
    services.team_create(user=UserFactory(), challenge=ChallengeFactory(), name="Valence")


def test_one_team_per_person_per_challenge():
    user, challenge = UserFactory(), ChallengeFactory()
    services.team_create(user=user, challenge=challenge, name="First")
    with pytest.raises(Conflict, match="already in team 'First'"):
        services.team_create(user=user, challenge=challenge, name="Second")
    other = services.team_create(user=UserFactory(), challenge=challenge, name="Other")
    with pytest.raises(Conflict):
        services.team_join(user=user, challenge=challenge, invite_code=other.invite_code)
    assert TeamMembership.objects.filter(user=user).count() == 1


def test_database_enforces_one_team_per_challenge():
    user, challenge = UserFactory(), ChallengeFactory()
    a = services.team_create(user=user, challenge=challenge, name="A")
    b = services.team_create(user=UserFactory(), challenge=challenge, name="B")
    with pytest.raises(IntegrityError), transaction.atomic():
        TeamMembership.objects.create(team=b, user=user, challenge=challenge)
    assert a.memberships.count() == 1


def test_join_respects_max_team_size():
    challenge = ChallengeFactory(max_team_size=2)
    team = services.team_create(user=UserFactory(), challenge=challenge, name="Pair")
    services.team_join(user=UserFactory(), challenge=challenge, invite_code=team.invite_code)
    late = UserFactory()
    with pytest.raises(Conflict, match="at most 2 members"):
        services.team_join(user=late, challenge=challenge, invite_code=team.invite_code)
    assert team.memberships.count() == 2
    assert not TeamMembership.objects.filter(user=late).exists()


def test_join_with_unknown_code_is_not_found():
    with pytest.raises(NotFound, match="No team has that invite code"):
        services.team_join(user=UserFactory(), challenge=ChallengeFactory(), invite_code="nope")


def test_no_team_changes_after_the_challenge_ended():
    challenge = ChallengeFactory(
        starts_at=timezone.now() - timedelta(days=10), ends_at=timezone.now() - timedelta(days=1)
    )
    with pytest.raises(DomainError, match="has ended"):
        services.team_create(user=UserFactory(), challenge=challenge, name="Late")
    assert not Team.objects.exists()


def test_owner_leaving_hands_ownership_to_the_next_member():
    owner, member = UserFactory(), UserFactory()
    team = services.team_create(user=owner, challenge=ChallengeFactory(), name="T")
    services.team_join(user=member, challenge=team.challenge, invite_code=team.invite_code)
    services.team_leave(user=owner, team=team)
    assert list(team.memberships.values_list("user", "role")) == [(member.pk, TeamRole.OWNER)]


def test_last_member_leaving_deletes_an_empty_team():
    owner = UserFactory()
    team = services.team_create(user=owner, challenge=ChallengeFactory(), name="Solo")
    services.team_leave(user=owner, team=team)
    assert not Team.objects.filter(pk=team.pk).exists()


def test_last_member_cannot_leave_a_team_with_submissions():
    owner = UserFactory()
    team = services.team_create(user=owner, challenge=ChallengeFactory(), name="Solo")
    SubmissionFactory(team=team, phase__track__challenge=team.challenge)
    with pytest.raises(Conflict, match="last member"):
        services.team_leave(user=owner, team=team)
    assert team.memberships.count() == 1


def test_only_the_owner_rotates_the_invite_code():
    owner, member = UserFactory(), UserFactory()
    team = services.team_create(user=owner, challenge=ChallengeFactory(), name="T")
    services.team_join(user=member, challenge=team.challenge, invite_code=team.invite_code)
    old = team.invite_code
    with pytest.raises(DomainError, match="Only the team's owner"):
        services.team_rotate_invite_code(user=member, team=team)
    new = services.team_rotate_invite_code(user=owner, team=team)
    assert new != old
    with pytest.raises(NotFound):
        services.team_join(user=UserFactory(), challenge=team.challenge, invite_code=old)
