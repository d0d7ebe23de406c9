"""Organisers' baselines: prediction files scored like the teams' entries and shown on the board,
marked and unranked. A baseline belongs to no team, so it uses no team's limits; a phase may have
several. Baseline models (container archives) are not taken here."""

from __future__ import annotations

from typing import BinaryIO

from django.core.files.base import File
from django.db import transaction

from arena.audit.services import audit_record
from arena.challenges.models import Phase, SubmissionKind
from arena.challenges.permissions import ensure_organiser
from arena.core.errors import DomainError
from arena.submissions.models import Submission
from arena.submissions.services.create import checked_prediction
from arena.submissions.services.intake import MethodInfo
from arena.submissions.services.queueing import submission_enqueue


def baseline_create(*, actor, phase: Phase, method_name: str, file: BinaryIO, description: str = "") -> Submission:
    """Check an organisers' baseline prediction file exactly as a team's upload is checked, store it as a
    baseline of ``phase`` and queue it for scoring once the transaction commits.

    ``file`` is the upload (its ``name`` is kept as the file's name). Raises PermissionDenied unless
    ``actor`` organises the phase's challenge, and DomainError (``details['field']``: ``method_name``
    or ``file``) for a name or a file a team's upload would be refused for.
    """
    phase = Phase.objects.select_related("track__challenge").get(pk=phase.pk)
    challenge = phase.track.challenge
    ensure_organiser(actor, challenge)
    if SubmissionKind.FILE not in phase.track.accepted_kinds:
        raise DomainError("This track takes containerised models, not prediction files; baseline models "
                          "cannot be uploaded here yet.", code="kind_not_accepted", details={"field": "file"})
    method = MethodInfo(name=method_name, description=description)
    if not method.name.strip():
        raise DomainError("Name the baseline (e.g. 'Official baseline: wav2vec2 + MLP'); it is shown on the "
                          "leaderboard.", code="invalid", details={"field": "method_name"})
    file_name = getattr(file, "name", "") or "predictions.csv"
    with checked_prediction(phase=phase, name=file_name, stream=file) as prepared, \
            prepared.path.open("rb") as handle, transaction.atomic():
        submission = Submission.objects.create(
            phase=phase, team=None, is_baseline=True, submitted_by=actor, kind=SubmissionKind.FILE,
            file=File(handle, name="predictions.csv"), file_name=prepared.uploaded_name,
            file_size=prepared.uploaded_size, file_sha256=prepared.uploaded_sha256, **method.as_fields(),
        )
        submission_enqueue(submission=submission)
        audit_record(actor=actor, action="submission.create_baseline", target=submission, challenge=challenge,
                     details={"phase": phase.pk, "method": submission.method_name,
                              "sha256": prepared.uploaded_sha256, "size": prepared.uploaded_size})
    submission.refresh_from_db()
    return submission
