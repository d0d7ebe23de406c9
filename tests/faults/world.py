"""The fault suite's challenge, and the checks that end every scenario.

Run as a script in the environment of the site under test (its own database and broker):

    python -m tests.faults.world setup --teams 10     # prints {"phase", "tokens", "names", "labels"}
    python -m tests.faults.world check                # prints what every scenario asserts on
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LABELS = ["neutral", "angry", "happy", "sad", "worried", "surprise"]
ROWS = 411


def _django() -> None:
    sys.path[:0] = [str(REPO), str(REPO / "platform")]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.config.settings.local")
    import django

    django.setup()


def setup(teams: int) -> dict:
    """A published challenge with one MER discrete phase (a 411-row reference split public/private) and
    ``teams`` approved teams, each with an API token; no limits, so every upload is admitted."""
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from arena.accounts.models import User
    from arena.challenges.models import Challenge, Licence, Phase, Track
    from arena.participation.models import LicenceAcceptance, Participation
    from arena.teams.models import Team, TeamMembership
    from arena.tokens.services import api_token_create

    rng = random.Random(11)
    names = [f"sample_{i:08d}" for i in range(ROWS)]
    gold = {n: rng.choice(LABELS) for n in names}
    public = "name,discrete\n" + "".join(f"{n},{gold[n]}\n" for n in names[:250])
    private = "name,discrete\n" + "".join(f"{n},{gold[n]}\n" for n in names[250:])
    now = timezone.now()
    challenge = Challenge.objects.create(slug="faults", title="Faults", starts_at=now - timedelta(days=1),
                                         ends_at=now + timedelta(days=30), is_published=True)
    licence = Licence.objects.create(challenge=challenge, version=1, title="Licence", text="Licence")
    track = Track.objects.create(challenge=challenge, slug="discrete", title="Discrete", scorer_key="mer.discrete",
                                 max_per_day=None, max_total=None, max_in_flight=None)
    phase = Phase(track=track, slug="test", title="Test", opens_at=now - timedelta(days=1),
                  closes_at=now + timedelta(days=10))
    phase.reference_public.save("public.csv", ContentFile(public.encode()), save=False)
    phase.reference_private.save("private.csv", ContentFile(private.encode()), save=False)
    phase.save()
    tokens = []
    for i in range(teams):
        user = User.objects.create_user(username=f"member{i}", email=f"member{i}@faults.test", password=None)
        team = Team.objects.create(challenge=challenge, name=f"Team {i:03d}", created_by=user)
        TeamMembership.objects.create(team=team, user=user, challenge=challenge, role="owner")
        Participation.objects.create(team=team, challenge=challenge, status="approved")
        LicenceAcceptance.objects.create(team=team, licence=licence, accepted_by=user, full_name="Member",
                                         affiliation="Lab", accepted_on=now.date())
        tokens.append(api_token_create(user=user, name="faults").raw)
    return {"phase": phase.pk, "tokens": tokens, "names": names, "labels": LABELS}


def _board(phase_id: int) -> list[list]:
    from arena.leaderboards.models import LeaderboardEntry

    return [list(row) for row in LeaderboardEntry.objects.filter(phase_id=phase_id).order_by(
        "split", "position").values_list("split", "position", "rank", "submission_id", "team_id", "score",
                                          "public_rank", "entries_count")]


def check() -> dict:
    """Statuses, score rows and attempts of every submission, and whether each stored board equals the
    board ranked again from scratch (in a transaction that is rolled back)."""
    from django.db import transaction

    from arena.challenges.models import Phase
    from arena.leaderboards.services import leaderboard_refresh
    from arena.submissions.models import Submission

    submissions = {
        str(s.pk): {"status": s.status, "attempts": s.attempts, "scores": s.scores.count(),
                    "error": s.error_message}
        for s in Submission.objects.prefetch_related("scores")
    }
    boards = {}
    for phase_id in Phase.objects.values_list("pk", flat=True):
        stored = _board(phase_id)
        with transaction.atomic():
            leaderboard_refresh(phase_id=phase_id)
            fresh = _board(phase_id)
            transaction.set_rollback(True)
        boards[str(phase_id)] = {"rows": len(stored), "equal": stored == fresh}
    return {"submissions": submissions, "boards": boards}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["setup", "check"])
    parser.add_argument("--teams", type=int, default=10)
    args = parser.parse_args()
    _django()
    print(json.dumps(setup(args.teams) if args.command == "setup" else check()))


if __name__ == "__main__":
    main()
