"""Scoring a submission on the public and private splits of its phase. Runs in a worker."""

from __future__ import annotations

import logging
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F

import scorers
from arena.challenges.models import Phase, Track
from arena.leaderboards.services import leaderboard_refresh
from arena.submissions.models import ScoreSplit, Submission, SubmissionScore, SubmissionStatus
from arena.submissions.services import lifecycle
from arena.submissions.services.notify import notify_team_of_result

log = logging.getLogger(__name__)

MISCONFIGURED_MESSAGE = (
    "This track's scorer is misconfigured, so your submission could not be scored. "
    "The organisers can see the details; it will be re-run once they fix it."
)


def _copy_to(field_file, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with field_file.open("rb") as src, dest.open("wb") as out:
        shutil.copyfileobj(src, out, length=1 << 20)
    return dest


@contextmanager
def materialised_inputs(submission: Submission):
    """A temporary folder holding the prediction, the phase references and the track assets."""
    phase: Phase = submission.phase
    track: Track = phase.track
    with tempfile.TemporaryDirectory(prefix="arena-score-") as tmp:
        root = Path(tmp)
        golds = {ScoreSplit.PUBLIC.value: _copy_to(phase.reference_public, root / "gold-public")}
        if phase.reference_private:
            golds[ScoreSplit.PRIVATE.value] = _copy_to(phase.reference_private, root / "gold-private")
        pred = _copy_to(submission.file, root / "prediction")
        assets = None
        if track.assets.exists():
            assets = root / "assets"
            for asset in track.assets.all():
                _copy_to(asset.file, assets / Path(asset.path).name)
        yield golds, pred, assets


@transaction.atomic
def _fail(submission_id: int, *, message: str, detail: str = "") -> None:
    if lifecycle.submission_mark_failed(
        submission_id=submission_id, message=message, detail=detail, sources=[SubmissionStatus.SCORING]
    ):
        notify_team_of_result(submission_id=submission_id)


def submission_score(*, submission_id: int, count_attempt: bool = True) -> str:
    """Score one submission. Safe to run twice and after a worker died half-way.

    Returns the submission's status afterwards.
    """
    submission = Submission.objects.select_related("phase__track").get(pk=submission_id)
    if submission.status == SubmissionStatus.QUEUED:
        if not lifecycle.submission_mark_scoring(submission_id=submission_id):
            return Submission.objects.values_list("status", flat=True).get(pk=submission_id)
    elif submission.status != SubmissionStatus.SCORING:
        # scored, failed, cancelled: nothing to do; running belongs to the sandbox.
        return submission.status

    if count_attempt:  # a container run counts its attempt when it starts
        Submission.objects.filter(pk=submission_id).update(attempts=F("attempts") + 1)
    submission.refresh_from_db()
    if submission.attempts > settings.ARENA_MAX_ATTEMPTS:
        lifecycle.submission_mark_failed(
            submission_id=submission_id,
            message=(
                f"Scoring was interrupted {submission.attempts - 1} times, so it was stopped. "
                "Your submission does not count against your limits; please submit it again."
            ),
            detail="attempt cap reached",
        )
        return SubmissionStatus.FAILED

    track = submission.phase.track
    try:
        scorer = scorers.get_scorer(track.scorer_key)
        with materialised_inputs(submission) as (golds, pred, assets):
            results = scorer.score_splits(
                golds=golds, pred=pred, options=track.scorer_options, assets=assets
            )
    except scorers.SubmissionFormatError as exc:
        if exc.file == "prediction":
            _fail(submission_id, message=str(exc))
        else:  # the phase's reference is at fault, not the team
            log.error("reference of phase %s is invalid: %s", submission.phase_id, exc)
            _fail(submission_id, message=MISCONFIGURED_MESSAGE, detail=str(exc))
        return SubmissionStatus.FAILED
    except scorers.ScorerError as exc:  # options, assets, unreadable files: the track's set-up
        log.error("scorer misconfigured for track %s: %s", track.pk, exc)
        _fail(submission_id, message=MISCONFIGURED_MESSAGE, detail=str(exc))
        return SubmissionStatus.FAILED

    with transaction.atomic():
        for split, result in results.items():
            payload = result.to_json()
            SubmissionScore.objects.update_or_create(
                submission_id=submission_id, split=split,
                defaults={
                    "score": payload["score"],
                    "metrics": payload["metrics"],
                    "breakdown": payload.get("breakdown") or {},
                },
            )
        if not lifecycle.submission_mark_scored(submission_id=submission_id):
            # Cancelled (or re-queued) while we scored: keep no scores for this run.
            transaction.set_rollback(True)
            return Submission.objects.values_list("status", flat=True).get(pk=submission_id)
        # The board changes in the same transaction: a scored submission is on it at once.
        leaderboard_refresh(phase_id=submission.phase_id, team_ids=[submission.team_id])
        notify_team_of_result(submission_id=submission_id)
    return SubmissionStatus.SCORED
