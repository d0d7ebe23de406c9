"""``arena leaderboard`` on hidden and frozen boards: the refusal as the server words it, then the board."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from arena.challenges.models import BoardVisibility, Phase
from arena.challenges.services import phase_reveal_results
from arena.leaderboards.services import leaderboard_refresh
from arena.submissions.models import Submission, SubmissionScore, SubmissionStatus
from tests.platform.factories import SubmissionFactory

pytestmark = pytest.mark.django_db(transaction=True)

HIDDEN = "arena: The leaderboards of this phase are hidden until the organisers reveal the results.\n"
REFUSED = 5  # arena.cli.errors: a 4xx refusal of the server


def _entry(phase, team, public, private, *, at, method) -> Submission:
    sub = SubmissionFactory(phase=phase, team=team, status=SubmissionStatus.SCORED, method_name=method)
    Submission.objects.filter(pk=sub.pk).update(created_at=at)
    for split, score in (("public", public), ("private", private)):
        SubmissionScore.objects.create(submission=sub, split=split, score=score,
                                       metrics={"waf": score, "accuracy": 0.5})
    return sub


def _make(world, **fields) -> Phase:
    """The world's phase turned into ``fields``, with an entry of the signed-in team (Owls) added."""
    phase = world["phase"]
    Phase.objects.filter(pk=phase.pk).update(**fields)
    phase.refresh_from_db()
    # The world's Rivals entry (public 0.75) gets a private score; Owls submit a better public one.
    SubmissionScore.objects.create(submission=world["scored"], split="private", score=0.9012,
                                   metrics={"waf": 0.9012, "accuracy": 0.5})
    return phase


def test_hidden_board_is_refused_until_the_reveal_then_printed(signed_in, world):
    phase = _make(world, board_visibility=BoardVisibility.HIDDEN)
    _entry(phase, world["team"], 0.8123, 0.6345, at=timezone.now(), method="Owl net")
    leaderboard_refresh(phase_id=phase.pk)
    for args in ((), ("--split", "private"), ("--csv",), ("--json",)):
        result = signed_in.run("leaderboard", str(phase.pk), *args)
        assert result.returncode == REFUSED, (args, result.stderr)
        assert result.stderr == HIDDEN
        if "--json" in args:  # with --json the error is also on stdout, as JSON
            assert json.loads(result.stdout) == {"error": {
                "code": "board_hidden", "message": HIDDEN[len("arena: "):-1], "details": {}},
                "exit_code": REFUSED, "status": 403}
        else:
            assert result.stdout == ""

    organiser = phase.track.challenge.organisers.create(username="org", email="org@example.org")
    assert phase_reveal_results(actor=organiser, phase=phase)
    result = signed_in.run("leaderboard", str(phase.pk))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"Phase {phase.pk}, public leaderboard: 2 row(s), ranked by waf "
                               "(higher is better); refreshed ")
    assert lines[1:] == ["rank  team    method       waf     entries",
                         "----  ------  -----------  ------  -------",
                         "1     Owls    Owl net      0.8123  1",
                         "2     Rivals  Rival model  0.7500  1"]
    private = signed_in.run("leaderboard", str(phase.pk), "--split", "private")
    assert private.returncode == 0, private.stderr
    assert private.stdout.splitlines()[3:] == ["1     Rivals  Rival model  0.9012  1",
                                               "2     Owls    Owl net      0.6345  1"]


def test_frozen_board_csv_prints_only_entries_from_before_the_freeze(signed_in, world, client):
    now = timezone.now()
    phase = _make(world, board_visibility=BoardVisibility.FROZEN, frozen_at=now - timedelta(hours=1))
    Submission.objects.filter(pk=world["scored"].pk).update(created_at=now - timedelta(hours=2))
    _entry(phase, world["team"], 0.8123, 0.6345, at=now - timedelta(minutes=30), method="Owl net")
    leaderboard_refresh(phase_id=phase.pk)

    result = signed_in.run("leaderboard", str(phase.pk), "--csv")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "rank,team,method,baseline,score,waf,accuracy,entries,submitted_at,submission_id"
    assert len(lines) == 2 and lines[1].startswith("1,Rivals,Rival model,,0.75,0.75,")
    assert "Owl" not in result.stdout and "0.8123" not in result.stdout
    # What the site serves teams, byte for byte.
    client.force_login(world["member"])
    assert result.stdout == client.get(f"/api/v1/phases/{phase.pk}/leaderboard.csv").content.decode()

    table = signed_in.run("leaderboard", str(phase.pk))
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[1:] == ["rank  team    method       waf     entries",
                                             "----  ------  -----------  ------  -------",
                                             "1     Rivals  Rival model  0.7500  1"]
    hidden_private = signed_in.run("leaderboard", str(phase.pk), "--split", "private")
    assert (hidden_private.returncode, hidden_private.stderr) == (
        REFUSED, "arena: The private leaderboard of this phase is hidden until the organisers reveal the results.\n")

    organiser = phase.track.challenge.organisers.create(username="org", email="org@example.org")
    phase_reveal_results(actor=organiser, phase=phase)
    revealed = signed_in.run("leaderboard", str(phase.pk), "--csv")
    assert revealed.returncode == 0, revealed.stderr
    assert [line.split(",")[:3] for line in revealed.stdout.splitlines()[1:]] == [
        ["1", "Owls", "Owl net"], ["2", "Rivals", "Rival model"]]
