"""Revealing the results of a phase that is still open needs a confirmation; dates in the organiser admin
say their time zone."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone

from arena.audit.models import AuditEntry
from arena.challenges.models import Phase
from tests.platform.factories import ChallengeFactory, PhaseFactory, TrackFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    organiser = UserFactory(username="orga")
    challenge = ChallengeFactory(slug="mer", organisers=[organiser], starts_at=datetime(2026, 1, 1, tzinfo=UTC),
                                 ends_at=datetime(2026, 12, 4, 3, 0, tzinfo=UTC))
    track = TrackFactory(challenge=challenge)
    now = timezone.now()
    open_phase = PhaseFactory(track=track, title="Open", opens_at=now - timedelta(days=1),
                              closes_at=now + timedelta(days=2))
    closed = PhaseFactory(track=track, title="Closed", opens_at=now - timedelta(days=5),
                          closes_at=now - timedelta(days=1))
    return {"organiser": organiser, "open": open_phase, "closed": closed}


def _reveal(client, phases, **extra):
    return client.post(reverse("admin:challenges_phase_changelist"), {
        "action": "reveal_results", ACTION_CHECKBOX_NAME: [str(p.pk) for p in phases], **extra})


def _revealed(*phases) -> list[bool]:
    return [Phase.objects.get(pk=p.pk).private_revealed_at is not None for p in phases]


def test_closed_phases_are_revealed_at_once(client, world):
    client.force_login(world["organiser"])
    assert _reveal(client, [world["closed"]]).status_code == 302
    assert _revealed(world["closed"]) == [True]


def test_an_open_phase_asks_for_confirmation_and_reveals_nothing_until_then(client, world):
    client.force_login(world["organiser"])
    page = _reveal(client, [world["open"], world["closed"]])
    assert page.status_code == 200
    assert [t.name for t in page.templates][0] == "challenges/admin_reveal_confirm.html"
    text = page.text
    assert "1 of the selected phases is still open" in text
    assert f'<input type="hidden" name="{ACTION_CHECKBOX_NAME}" value="{world["open"].pk}">' in text
    assert f'<input type="hidden" name="{ACTION_CHECKBOX_NAME}" value="{world["closed"].pk}">' in text
    assert '<input type="hidden" name="post" value="yes">' in text
    assert _revealed(world["open"], world["closed"]) == [False, False]
    assert not AuditEntry.objects.filter(action="phase.reveal_results").exists()

    assert _reveal(client, [world["open"], world["closed"]], post="yes").status_code == 302
    assert _revealed(world["open"], world["closed"]) == [True, True]
    assert AuditEntry.objects.filter(action="phase.reveal_results").count() == 2


def test_admin_lists_and_forms_show_the_time_zone(client, world):
    client.force_login(world["organiser"])
    challenges = client.get(reverse("admin:challenges_challenge_changelist")).text
    assert "2026-12-04 03:00 UTC" in challenges and "2026-01-01 00:00 UTC" in challenges
    phases = client.get(reverse("admin:challenges_phase_changelist")).text
    closes = timezone.localtime(world["open"].closes_at).strftime("%Y-%m-%d %H:%M")
    assert f"{closes} UTC" in phases
    form = client.get(reverse("admin:challenges_phase_change", args=[world["open"].pk]))
    assert form.context["adminform"].form.fields["closes_at"].help_text == "Times are in UTC."
    assert form.context["adminform"].form.fields["frozen_at"].help_text.endswith(" Times are in UTC.")
