"""Large uploads sent straight to S3 with a presigned POST, then submitted by key.

Prediction files are read back, checked and copied into the submission as any upload is.
Model archives (several GB) are never read by the web request: the submission points at the
uploaded object itself, after a size check (HEAD) and a look at its first 512 bytes (a tar or
gzip header); the worker checks the whole layout before loading it (``sandboxes.archives``) and
fails the submission with the same message the upload form gives. Keys are scoped to the team
(and, for models, the phase), and a model upload can be submitted once.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from arena.challenges.models import Phase, SubmissionKind
from arena.core.errors import Conflict, DomainError, NotFound
from arena.core.keys import safe_filename
from arena.core.storage import UploadTicket, presigned_upload, stored_object, supports_direct_upload
from arena.submissions.models import Submission
from arena.submissions.services.containers import SAVE_HOW_TO, archive_upload_limit
from arena.submissions.services.create import submission_create
from arena.submissions.services.intake import MethodInfo, submission_insert, submission_intake
from arena.submissions.services.refusals import submission_refusals_counted
from arena.submissions.services.uploads import GZIP_MAGIC, MB
from arena.teams.models import Team

UPLOAD_PREFIX = "submission-uploads"
MODEL_UPLOAD_PREFIX = "model-uploads"
TICKET_SECONDS = 900
#: What a ticket is for: a prediction file (``file``) or a model archive (``image_archive``).
PREDICTIONS, IMAGE_ARCHIVE = "predictions", "image_archive"
UPLOAD_KINDS = (PREDICTIONS, IMAGE_ARCHIVE)


def _team_prefix(team_id: int) -> str:
    return f"{UPLOAD_PREFIX}/{team_id}/"


def model_upload_prefix(team_id: int, phase_id: int) -> str:
    """Where a team's model archives for one phase are uploaded (and stay, once submitted)."""
    return f"{MODEL_UPLOAD_PREFIX}/{team_id}/{phase_id}/"


def submission_upload_ticket(*, user, phase: Phase, filename: str, kind: str = PREDICTIONS) -> UploadTicket:
    """Where the client may POST one prediction file (``kind`` "predictions") or one model archive
    ("image_archive") of up to the track's size limit for it (S3 only)."""
    model = kind == IMAGE_ARCHIVE
    intake = submission_intake(user=user, phase=phase, kind=SubmissionKind.CONTAINER if model else SubmissionKind.FILE,
                               method=None)
    phase, team = intake.phase, intake.team
    if not supports_direct_upload():
        field = "image_archive" if model else "file"
        raise Conflict(f"Direct uploads need S3 storage; send the {field} in the submission request itself.",
                       code="direct_upload_unavailable")
    token = secrets.token_hex(16)
    if model:
        key = f"{model_upload_prefix(team.pk, phase.pk)}{token}/{safe_filename(filename, default='model.tar')}"
        max_bytes = phase.track.max_image_mb * MB
    else:
        key = f"{_team_prefix(team.pk)}{token}/{safe_filename(filename, default='predictions.csv')}"
        max_bytes = phase.track.max_upload_mb * MB
    url, fields = presigned_upload(key, max_bytes=max_bytes, seconds=TICKET_SECONDS)
    return UploadTicket(url=url, fields=fields, key=key, max_bytes=max_bytes,
                        expires_at=timezone.now() + timedelta(seconds=TICKET_SECONDS))


def submission_create_from_upload(
    *, user, phase: Phase, upload_key: str, method: MethodInfo, idempotency_key: str = "",
) -> tuple[Submission, bool]:
    """Submit a file the client uploaded with a ticket. The uploaded object is removed afterwards."""
    team = submission_intake(user=user, phase=phase, kind=SubmissionKind.FILE, method=method).team
    key = upload_key.strip()
    # Only the team's own uploads can be submitted: keys of others, references or datasets cannot.
    if not key.startswith(_team_prefix(team.pk)) or ".." in key or not default_storage.exists(key):
        raise NotFound("No upload with that key for your team; ask for a new upload ticket and upload again.",
                       code="upload_not_found", details={"field": "upload_key"})
    try:
        with default_storage.open(key, "rb") as stream:
            return submission_create(user=user, phase=phase, file_name=key.rsplit("/", 1)[-1], stream=stream,
                                     method=method, idempotency_key=idempotency_key)
    finally:
        # Accepted or refused, the upload has served its purpose (a refused file is uploaded anew).
        default_storage.delete(key)


def _checked_archive_head(*, size: int, head: bytes, track) -> None:
    """What can be known of an uploaded model archive without reading it: its size, and that it
    starts as a tar (``ustar`` at byte 257) or gzip file does. The layout is checked by the worker."""
    limit = archive_upload_limit(track)
    if size > limit.max_bytes:
        raise limit.error()
    if not size:
        raise DomainError(f"The uploaded model archive is empty. {SAVE_HOW_TO}", code="empty_file",
                          details={"field": "image_archive"})
    if head[:2] != GZIP_MAGIC and head[257:262] != b"ustar":
        raise DomainError(f"The uploaded file is not a `docker save` archive (neither a tar nor a gzip file). "
                          f"{SAVE_HOW_TO}", code="invalid_image_archive", details={"field": "image_archive"})


def submission_create_container_from_upload(
    *, user, phase: Phase, upload_key: str, method: MethodInfo, idempotency_key: str = "",
) -> tuple[Submission, bool]:
    """Submit a model archive the client uploaded with an "image_archive" ticket: the submission's
    ``image_archive`` is the uploaded object. A key of another team or phase, or one already
    submitted, is refused and changes nothing; a refused archive is removed."""
    intake = submission_intake(user=user, phase=phase, kind=SubmissionKind.CONTAINER, method=method,
                               idempotency_key=idempotency_key)
    if intake.existing is not None:
        return intake.existing, False
    phase, team = intake.phase, intake.team
    key = upload_key.strip()
    stored = None
    if key.startswith(model_upload_prefix(team.pk, phase.pk)) and ".." not in key.split("/"):
        stored = stored_object(key)
    if stored is None:
        raise NotFound("No model archive uploaded with that key by your team for this phase; ask for a new "
                       "upload ticket (kind image_archive) and upload again.",
                       code="upload_not_found", details={"field": "upload_key"})
    _refuse_if_submitted(key, intake.idempotency_key)
    try:
        with submission_refusals_counted(user=user, team=team, phase=phase):
            _checked_archive_head(size=stored.size, head=stored.head, track=phase.track)
    except DomainError:
        default_storage.delete(key)  # never a submission's archive: it was not submitted above
        raise
    with transaction.atomic():
        # Again under the team's lock (taken again, harmlessly, by the insert): one key, one submission.
        Team.objects.select_for_update(no_key=True).only("pk").get(pk=team.pk)
        _refuse_if_submitted(key, intake.idempotency_key)
        return submission_insert(
            user=user, intake=intake, audit={"upload_key": key, "size": stored.size},
            row=dict(kind=SubmissionKind.CONTAINER, image_archive=key, file_name=key.rsplit("/", 1)[-1],
                     file_size=stored.size, **method.as_fields()),
        )


def _refuse_if_submitted(key: str, idempotency_key: str) -> None:
    used = Submission.objects.filter(image_archive=key).only("pk", "idempotency_key").first()
    if used is not None and not (idempotency_key and used.idempotency_key == idempotency_key):
        raise Conflict(f"This upload was already submitted (submission {used.pk}); to submit the model again, "
                       "ask for a new upload ticket and upload it again.",
                       code="upload_already_submitted", details={"field": "upload_key"})
