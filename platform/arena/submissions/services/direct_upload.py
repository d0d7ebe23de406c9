"""Large prediction files sent straight to S3 with a presigned POST, then submitted by key."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.core.files.storage import default_storage
from django.utils import timezone

from arena.challenges.models import Phase, SubmissionKind
from arena.core.errors import Conflict, NotFound
from arena.core.keys import safe_filename
from arena.core.storage import UploadTicket, presigned_upload, supports_direct_upload
from arena.submissions.models import Submission
from arena.submissions.services.create import submission_create
from arena.submissions.services.intake import MethodInfo, submission_intake
from arena.submissions.services.uploads import MB

UPLOAD_PREFIX = "submission-uploads"
TICKET_SECONDS = 900


def _team_prefix(team_id: int) -> str:
    return f"{UPLOAD_PREFIX}/{team_id}/"


def submission_upload_ticket(*, user, phase: Phase, filename: str) -> UploadTicket:
    """Where the client may POST one prediction file of up to the track's size limit (S3 only)."""
    intake = submission_intake(user=user, phase=phase, kind=SubmissionKind.FILE, method=None)
    phase, team = intake.phase, intake.team
    if not supports_direct_upload():
        raise Conflict("Direct uploads need S3 storage; send the file in the submission request itself.",
                       code="direct_upload_unavailable")
    key = f"{_team_prefix(team.pk)}{secrets.token_hex(16)}/{safe_filename(filename, default='predictions.csv')}"
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
