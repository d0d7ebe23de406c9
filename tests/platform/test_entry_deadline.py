"""The entry deadline: after it no team is formed and nobody joins one, whatever the entry point."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from arena.audit.models import AuditEntry
from arena.challenges.models import Challenge
from arena.core.errors import PermissionDenied
from arena.participation.models import Participation
from arena.teams import services
from arena.teams.models import Team, TeamMembership, TeamRole
from tests.platform.clock import clock  # noqa: F401
from tests.platform.factories import ChallengeFactory, UserFactory

pytestmark = pytest.mark.django_db


def _snapshot() -> dict:
    return {
        "teams": sorted(Team.objects.values_list("id", "name", "invite_code")),
        "memberships": sorted(TeamMembership.objects.values_list("team_id", "user_id", "role")),
        "participations": sorted(Participation.objects.values_list("id", "team_id", "status")),
        "audit": AuditEntry.objects.count(),
    }


@pytest.fixture
def mer(clock):  # noqa: F811
    """A challenge whose entry closes in one day, with one team of one member."""
    owner = UserFactory(username="owner")
    challenge = ChallengeFactory(
        slug="mer", title="MER 2026", starts_at=clock.now() - timedelta(days=1),
        ends_at=clock.now() + timedelta(days=30), max_team_size=3,
    )
    Challenge.objects.filter(pk=challenge.pk).update(
        entry_deadline=clock.now().replace(microsecond=0) + timedelta(days=1))
    challenge.refresh_from_db()
    team = services.team_create(user=owner, challenge=challenge, name="Valence")
    return {"challenge": challenge, "owner": owner, "team": team}


def _closed_message(challenge) -> str:
    return (f"Entry to 'MER 2026' closed at {challenge.entry_deadline:%Y-%m-%d %H:%M} UTC; "
            "no new teams or members are accepted.")


def test_teams_are_formed_and_joined_before_the_deadline(mer):
    newcomer, joiner = UserFactory(), UserFactory()
    team = services.team_create(user=newcomer, challenge=mer["challenge"], name="Arousal")
    assert services.team_join(user=joiner, challenge=mer["challenge"], invite_code=team.invite_code) == team
    assert sorted(team.memberships.values_list("user__username", "role")) == sorted(
        [(newcomer.username, TeamRole.OWNER), (joiner.username, TeamRole.MEMBER)])


def test_after_the_deadline_creating_and_joining_are_refused_and_change_nothing(mer, clock):  # noqa: F811
    clock.advance(days=1)  # exactly at the deadline: closed
    before = _snapshot()
    with pytest.raises(PermissionDenied) as created:
        services.team_create(user=UserFactory(), challenge=mer["challenge"], name="Late")
    with pytest.raises(PermissionDenied) as joined:
        services.team_join(user=UserFactory(), challenge=mer["challenge"], invite_code=mer["team"].invite_code)
    for refusal in (created.value, joined.value):
        assert (refusal.code, refusal.status, refusal.message) == (
            "entry_closed", 403, _closed_message(mer["challenge"]))
    assert _snapshot() == before


def test_an_unknown_invite_code_after_the_deadline_gets_the_same_refusal(mer, clock):  # noqa: F811
    clock.advance(days=2)
    with pytest.raises(PermissionDenied, match="closed at"):
        services.team_join(user=UserFactory(), challenge=mer["challenge"], invite_code="no-such-code")


def test_leaving_is_still_allowed_after_the_deadline(mer, clock):  # noqa: F811
    member = UserFactory()
    services.team_join(user=member, challenge=mer["challenge"], invite_code=mer["team"].invite_code)
    clock.advance(days=2)
    services.team_leave(user=member, team=mer["team"])
    assert list(mer["team"].memberships.values_list("user", "role")) == [(mer["owner"].pk, TeamRole.OWNER)]
    assert AuditEntry.objects.filter(action="team.leave", target_id=str(mer["team"].pk)).count() == 1


def test_the_team_page_refuses_after_the_deadline(client, mer, clock):  # noqa: F811
    newcomer = UserFactory()
    client.force_login(newcomer)
    url = reverse("team-page", args=["mer"])
    clock.advance(days=1, seconds=1)
    before = _snapshot()
    page = client.get(url).text
    assert 'id="entry-closed"' in page and 'value="create"' not in page  # no forms to fill in for nothing
    for data in ({"action": "create", "name": "Late"}, {"action": "join", "invite_code": mer["team"].invite_code}):
        response = client.post(url, data)
        assert response.status_code == 403
        assert _closed_message(mer["challenge"]).replace("'", "&#x27;") in response.text
    assert _snapshot() == before


def test_the_team_page_works_before_the_deadline(client, mer):
    client.force_login(UserFactory())
    response = client.post(reverse("team-page", args=["mer"]),
                           {"action": "join", "invite_code": mer["team"].invite_code})
    assert response.status_code == 302
    assert mer["team"].memberships.count() == 2


def test_the_challenge_page_and_api_show_the_deadline(client, mer):
    deadline = mer["challenge"].entry_deadline
    page = client.get(reverse("challenge-detail", args=["mer"]))
    assert f"Entry deadline: {deadline:%-d %b %Y %H:%M} UTC" in page.text
    body = client.get("/api/v1/challenges/mer").json()
    assert body["entry_deadline"] == deadline.isoformat().replace("+00:00", "Z")
    listed = client.get("/api/v1/challenges").json()
    assert [c["entry_deadline"] for c in listed] == [body["entry_deadline"]]


def test_without_a_deadline_the_api_says_null_and_the_page_says_nothing(client):
    ChallengeFactory(slug="open")
    assert client.get("/api/v1/challenges/open").json()["entry_deadline"] is None
    assert "Entry deadline" not in client.get(reverse("challenge-detail", args=["open"])).text


@pytest.mark.parametrize("offset", [timedelta(seconds=-1), timedelta(days=31, seconds=1)])
def test_the_deadline_must_lie_within_the_challenges_dates(mer, offset):
    challenge = mer["challenge"]
    challenge.entry_deadline = challenge.starts_at + offset  # just before the start, just after the end
    with pytest.raises(ValidationError, match="between the challenge's start and end"):
        challenge.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        challenge.save(update_fields=["entry_deadline"])
