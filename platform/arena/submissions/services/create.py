"""Creating a prediction-file submission: the file checked against the track's format and the phase's keys."""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import BinaryIO

from django.core.files.base import File

import scorers
from arena.challenges.models import Phase, SubmissionKind
from arena.challenges.permissions import is_organiser
from arena.core.errors import DomainError, NotFound
from arena.submissions.models import Submission
from arena.submissions.services.intake import MethodInfo, submission_insert, submission_intake
from arena.submissions.services.refusals import submission_refusals_counted
from arena.submissions.services.uploads import MB, PreparedPrediction, prepared_prediction
from arena.teams.models import TeamMembership
from scorers.base import Source

__all__ = ["MethodInfo", "checked_prediction", "submission_check_file", "submission_create", "submission_for_member"]

log = logging.getLogger(__name__)


PHASE_MISCONFIGURED_MESSAGE = (
    "This phase's reference files are misconfigured, so uploads cannot be checked yet; the organisers have "
    "been told. Your file was not counted: upload it again later.")


@contextmanager
def _local_paths(fields) -> Iterator[list[Path]]:
    """Stored files as paths the scorer reads: local files where they are, others (S3) copied to
    temporary files for the duration of the context."""
    with ExitStack() as stack:
        paths = []
        for field in fields:
            try:
                paths.append(Path(field.path))
            except NotImplementedError:  # storage without local paths
                copy = stack.enter_context(tempfile.NamedTemporaryFile(suffix=".csv"))
                with field.open("rb") as source:
                    shutil.copyfileobj(source, copy, length=MB)
                copy.flush()
                paths.append(Path(copy.name))
        yield paths


def submission_check_file(*, phase: Phase, data: Source) -> int:
    """Parse a prediction (a path, or bytes) against the track's format and the phase's keys (its published
    candidates where it has a list: then nothing in the answer depends on the hidden references); raise
    with the row."""
    track = phase.track
    scorer = scorers.get_scorer(track.scorer_key)
    fields = [phase.candidates] if phase.candidates else [
        field for field in (phase.reference_public, phase.reference_private) if field]
    if not fields:
        raise DomainError("This phase has no reference labels yet, so it cannot take submissions.",
                          code="phase_not_ready", status=409)
    with _local_paths(fields) as paths:
        try:
            if phase.candidates:
                return scorer.validate(data, candidates=paths[0], options=track.scorer_options)
            return scorer.validate(data, golds=paths, options=track.scorer_options)
        except scorers.SubmissionFormatError as exc:
            if exc.file != "prediction":  # the phase's own files: never the team's fault, never shown to it
                log.error("phase %s cannot check uploads: %s", phase.pk, exc)
                raise DomainError(PHASE_MISCONFIGURED_MESSAGE, code="phase_misconfigured", status=409) from None
            raise DomainError(
                str(exc), code="invalid_submission_file", status=422,
                details={"field": "file", "line": exc.row, "column": exc.column},
            ) from None
        except scorers.ScorerError as exc:  # options or unreadable files of the track
            log.error("phase %s cannot check uploads: %s", phase.pk, exc)
            raise DomainError(PHASE_MISCONFIGURED_MESSAGE, code="phase_misconfigured", status=409) from None


@contextmanager
def checked_prediction(*, phase: Phase, name: str, stream: BinaryIO) -> Iterator[PreparedPrediction]:
    """An uploaded prediction file read within the track's limits, expanded if compressed, and checked
    against the phase's keys (``submission_check_file``): what every prediction file goes through before
    it is stored, a team's entry or an organisers' baseline. Its temporary files go with the context."""
    track = phase.track
    with prepared_prediction(name=name, stream=stream, max_bytes=track.max_upload_mb * MB,
                             allow_compressed=track.allow_compressed) as prepared:
        submission_check_file(phase=phase, data=prepared.path)
        yield prepared


def submission_create(
    *, user, phase: Phase, file_name: str, stream: BinaryIO, method: MethodInfo, idempotency_key: str = "",
) -> tuple[Submission, bool]:
    """Check, store and queue a prediction file. Returns (submission, created).

    The file is read from ``stream`` once, within the track's limit, and checked and stored from
    disk. A retried request with the same ``idempotency_key`` returns the first submission and uses
    no more of the team's limits (see ``intake.submission_insert``). A file refused for its content
    uses none of the limits but counts towards the brake on refused uploads.
    """
    intake = submission_intake(user=user, phase=phase, kind=SubmissionKind.FILE, method=method,
                               idempotency_key=idempotency_key)
    if intake.existing is not None:
        return intake.existing, False
    phase = intake.phase
    with submission_refusals_counted(user=user, team=intake.team, phase=phase), checked_prediction(
            phase=phase, name=file_name, stream=stream) as prepared:
        with prepared.path.open("rb") as handle:
            return submission_insert(
                user=user, intake=intake, audit={"sha256": prepared.uploaded_sha256, "size": prepared.uploaded_size},
                row=dict(
                    kind=SubmissionKind.FILE, file=File(handle, name="predictions.csv"),
                    file_name=prepared.uploaded_name, file_size=prepared.uploaded_size,
                    file_sha256=prepared.uploaded_sha256, **method.as_fields(),
                ),
            )


def submission_for_member(*, user, submission_id: int) -> Submission:
    """A submission of the user's own team (organisers of its challenge see every one)."""
    submission = Submission.objects.select_related("phase__track__challenge", "team").filter(
        pk=submission_id).first()
    if submission is None:
        raise NotFound("No such submission.")
    if is_organiser(user, submission.phase.track.challenge):
        return submission
    if submission.team_id and TeamMembership.objects.filter(team_id=submission.team_id, user=user).exists():
        return submission
    raise NotFound("No such submission.")
