"""Scoring a submission on the public and private splits of its phase. Runs in a worker."""

from __future__ import annotations

import logging
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction

import scorers
from arena.challenges.condition_maps import ConditionMapError, phase_condition_groups
from arena.challenges.models import Phase, SubmissionKind, Track
from arena.challenges.robustness import Protocol, ProtocolError, phase_protocol
from arena.leaderboards.services import (
    leaderboard_lock_phase,
    leaderboard_refresh,
    sample_record_compute,
    sample_records_save,
)
from arena.submissions.models import ScoreSplit, Submission, SubmissionScore, SubmissionStatus
from arena.submissions.services import lifecycle
from arena.submissions.services.failure import FailureCause, submission_fail
from arena.submissions.services.lease import lease_kept
from arena.submissions.services.notify import notify_team_of_result
from arena.submissions.services.queueing import submission_dispatch_now
from arena.submissions.services.robust_scoring import (
    PredictionsArchiveError,
    RobustOutcome,
    score_condition_files,
    score_condition_groups,
    unpack_condition_predictions,
)

log = logging.getLogger(__name__)

MISCONFIGURED_MESSAGE = (
    "This track's scorer is misconfigured, so your submission could not be scored. "
    "The organisers can see the details; it will be re-run once they fix it."
)
UNREADABLE_RUN_MESSAGE = (
    "The platform could not read the predictions your model wrote, so it could not be scored. "
    "This is not your model's fault and does not count against your limits; please submit it again."
)


def _copy_to(field_file, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with field_file.open("rb") as src, dest.open("wb") as out:
        shutil.copyfileobj(src, out, length=1 << 20)
    return dest


@contextmanager
def materialised_inputs(submission: Submission):
    """A temporary folder holding the prediction, the phase references, the track assets and the phase's
    candidate list."""
    phase: Phase = submission.phase
    track: Track = phase.track
    with tempfile.TemporaryDirectory(prefix="arena-score-") as tmp:
        root = Path(tmp)
        # A phase may be scored on its hidden (private) split only.
        golds = {split: _copy_to(reference, root / f"gold-{split}") for split, reference in (
            (ScoreSplit.PUBLIC.value, phase.reference_public), (ScoreSplit.PRIVATE.value, phase.reference_private),
        ) if reference}
        pred = _copy_to(submission.file, root / "prediction")
        assets = None
        if track.assets.exists():
            assets = root / "assets"
            for asset in track.assets.all():
                _copy_to(asset.file, assets / Path(asset.path).name)
        candidates = _copy_to(phase.candidates, root / "candidates") if phase.candidates else None
        yield golds, pred, assets, candidates


ATTEMPTS_USED_MESSAGE = (
    "Scoring was interrupted {interrupted} times, so it was stopped. "
    "Your submission does not count against your limits; please submit it again."
)
#: Faults of the database connection: the work is handed back to the queue, and no attempt is spent.
TRANSIENT_DB_ERRORS = (OperationalError, InterfaceError)


def submission_score(*, submission_id: int, token: uuid.UUID | None) -> str:
    """Claim a queued prediction-file submission with ``token`` and score it.

    Safe to run twice, late, or after a worker died half-way: only the message that carries the
    submission's current claim token goes on. Returns the submission's status afterwards.
    """
    if not lifecycle.submission_claim(submission_id=submission_id, token=token, to=SubmissionStatus.SCORING):
        return lifecycle.submission_status(submission_id)
    return submission_score_held(submission_id=submission_id, token=token)


def submission_score_held(*, submission_id: int, token: uuid.UUID | None) -> str:
    """Score a submission this worker holds (status scoring, claim ``token``) and put it on the board."""
    submission = Submission.objects.select_related("phase__track").get(pk=submission_id)
    if submission.attempts > settings.ARENA_MAX_ATTEMPTS:
        submission_fail(submission_id=submission_id, token=token, cause=FailureCause.PLATFORM,
                        message=ATTEMPTS_USED_MESSAGE.format(interrupted=submission.attempts - 1),
                        detail="attempt cap reached")
        return lifecycle.submission_status(submission_id)
    try:
        with lease_kept(submission_id=submission_id, token=token):
            return _score(submission, token)
    except TRANSIENT_DB_ERRORS as exc:
        log.warning("database fault while scoring submission %s, handing it back: %s", submission_id, exc)
        _hand_back(submission_id, token)
        return SubmissionStatus.QUEUED


def _score(submission: Submission, token) -> str:
    submission_id = submission.pk
    phase = submission.phase
    track = phase.track
    try:
        scorer = scorers.get_scorer(track.scorer_key)
        protocol = phase_protocol(phase)
        with materialised_inputs(submission) as (golds, pred, assets, candidates):
            outcome = _score_inputs(submission, scorer, protocol, golds=golds, pred=pred, assets=assets,
                                    candidates=candidates)
    except scorers.SubmissionFormatError as exc:
        if exc.file == "prediction":
            submission_fail(submission_id=submission_id, token=token, message=str(exc))
        else:  # the phase's reference is at fault, not the team
            submission_fail(submission_id=submission_id, token=token, message=MISCONFIGURED_MESSAGE,
                            detail=f"reference of phase {submission.phase_id}: {exc}",
                            cause=FailureCause.CONFIGURATION)
        return lifecycle.submission_status(submission_id)
    except scorers.ScorerError as exc:  # options, assets, unreadable files: the track's set-up
        submission_fail(submission_id=submission_id, token=token, message=MISCONFIGURED_MESSAGE,
                        detail=f"scorer of track {track.pk}: {exc}", cause=FailureCause.CONFIGURATION)
        return lifecycle.submission_status(submission_id)
    except ProtocolError as exc:
        submission_fail(submission_id=submission_id, token=token, message=MISCONFIGURED_MESSAGE,
                        detail=f"robustness protocol of phase {phase.pk}: {exc.message}",
                        cause=FailureCause.CONFIGURATION)
        return lifecycle.submission_status(submission_id)
    except ConditionMapError as exc:  # the map was checked on save; it changed or went missing since
        submission_fail(submission_id=submission_id, token=token, message=MISCONFIGURED_MESSAGE,
                        detail=f"condition map of phase {phase.pk}: {exc}", cause=FailureCause.CONFIGURATION)
        return lifecycle.submission_status(submission_id)
    except PredictionsArchiveError as exc:
        submission_fail(submission_id=submission_id, token=token, message=UNREADABLE_RUN_MESSAGE,
                        detail=f"predictions archive of submission {submission_id}: {exc}",
                        cause=FailureCause.PLATFORM)
        return lifecycle.submission_status(submission_id)
    if outcome.failure is not None:
        submission_fail(submission_id=submission_id, token=token, message=outcome.failure)
        return lifecycle.submission_status(submission_id)

    with transaction.atomic():
        # Lock order: the phase first (see arena.submissions.services.intake).
        leaderboard_lock_phase(phase_id=submission.phase_id)
        if not lifecycle.submission_mark_scored(submission_id=submission_id, token=token):
            # Cancelled, re-queued or taken over while we scored: this run leaves nothing behind.
            return lifecycle.submission_status(submission_id)
        # One statement for both splits (a re-run replaces its scores; ``computed_at`` stays the first's).
        SubmissionScore.objects.bulk_create(
            [SubmissionScore(submission_id=submission_id, split=split, score=payload["score"],
                             metrics=payload["metrics"], breakdown=payload.get("breakdown") or {},
                             conditions=payload.get("conditions") or [])
             for split, payload in outcome.payloads.items()],
            update_conflicts=True, unique_fields=["submission", "split"],
            update_fields=["score", "metrics", "breakdown", "conditions"])
        # What the board's statistics need of this submission, by split (none: no resampling).
        sample_records_save(submission_id=submission_id, records={
            split: payload.get("sample_record") for split, payload in outcome.payloads.items()})
        # The board changes in the same transaction: a scored submission is on it at once.
        leaderboard_refresh(phase_id=submission.phase_id, team_ids=[submission.team_id])
    # After the commit, off the phase lock: the e-mail only reads what was committed.
    try:
        notify_team_of_result(submission_id=submission_id)
    except TRANSIENT_DB_ERRORS as exc:  # the submission is scored; only its e-mail is lost
        # Worded so that the one "submission N scored" line per committed scoring stays the only one.
        log.warning("the result e-mail of submission %s was not sent (the scoring stands): %s", submission_id, exc)
    log.info("submission %s scored", submission_id)
    return SubmissionStatus.SCORED


def _score_inputs(submission: Submission, scorer, protocol: Protocol | None, *, golds, pred: Path, assets,
                  candidates) -> RobustOutcome:
    """Each split's payload: per condition of the phase's protocol for a model's per-condition
    predictions (an archive) or for a prediction file with a condition map, else the plain scores."""
    phase = submission.phase
    options = phase.track.scorer_options
    if protocol is not None and submission.kind == SubmissionKind.CONTAINER:
        predictions = unpack_condition_predictions(pred, protocol=protocol, dest=pred.parent / "conditions",
                                                   max_mb=phase.track.max_upload_mb)
        return score_condition_files(scorer=scorer, protocol=protocol, golds=golds, predictions=predictions,
                                     options=options, assets=assets, candidates=candidates)
    groups = phase_condition_groups(phase, key_column=scorer.key_column) if protocol is not None else None
    if groups is not None:
        return score_condition_groups(scorer=scorer, protocol=protocol, golds=golds, pred=pred, groups=groups,
                                      options=options, assets=assets, candidates=candidates)
    results = scorer.score_splits(golds=golds, pred=pred, options=options, assets=assets, candidates=candidates,
                                  with_resampling=True)
    return RobustOutcome(payloads={split: {**result.to_json(), "sample_record": sample_record_compute(
        phase_id=phase.pk, split=split, resampling=result.resampling)} for split, result in results.items()})


def _hand_back(submission_id: int, token) -> None:
    """Give the submission back to the queue after a database fault; if the database is still away, the
    lease lapses and the reconciler does it."""
    try:
        with transaction.atomic():
            new_token = lifecycle.submission_release(submission_id=submission_id, token=token)
        if new_token is not None:
            submission_dispatch_now(submission_id=submission_id, token=new_token)
    except TRANSIENT_DB_ERRORS as exc:
        log.warning("could not hand submission %s back yet (%s); the reconciler will", submission_id, exc)
