"""Requesting, building and downloading exports. Organisers only; every request is audited.

A request creates a queued ``Export`` and sends its build task once the transaction commits;
the worker builds the file into a temporary file, stores it, and records its size and sha256.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from arena.audit.services import audit_record
from arena.challenges.models import Challenge, Phase
from arena.challenges.permissions import ensure_organiser
from arena.challenges.visibility import board_to_read, default_split
from arena.core.errors import Conflict, DomainError, NotFound
from arena.core.keys import safe_filename, sha256_of
from arena.core.storage import signed_download_url
from arena.exports import builders
from arena.exports.models import Export, ExportKind, ExportStatus
from arena.submissions.services.queueing import BROKER_ERRORS, PUBLISH_RETRY_POLICY

log = logging.getLogger(__name__)

BUILD_TASK = "arena.exports.tasks.build_export"
#: The boards a results table may be made of (the frozen board is what teams saw, not a result).
RESULT_SPLITS = ("public", "private")
#: Shown to the organiser when a build fails for a reason of ours; the detail goes to the log.
#: How long a queued or building export answers identical requests.
PENDING_REUSE = timedelta(minutes=10)
BUILD_FAILED = "The export could not be built; it was logged. Request it again, or tell the site's administrators."


@dataclass(frozen=True)
class ExportLink:
    url: str
    expires_at: datetime


def _file_name(export: Export) -> str:
    parts = [export.challenge.slug]
    if export.phase_id:
        parts += [export.phase.track.slug, export.phase.slug]
    parts.append(export.kind if not export.split else f"{export.kind}-{export.split}")
    return safe_filename("-".join(parts)) + (".zip" if export.kind == ExportKind.SUBMISSIONS else ".csv")


@transaction.atomic
def export_request(*, actor: Any, challenge: Challenge, kind: str, phase: Phase | None = None,
                   split: str | None = None) -> Export:
    """Queue an export of ``challenge`` and send its build after the commit.

    Submissions and results need a phase of this challenge; results take ``split`` (default:
    the phase's default board); organisers may export the private board before the reveal. An
    identical export asked for in the last ``PENDING_REUSE`` and still queued or building is returned
    instead of a second one (an older one may be stuck behind a broker that was down: a new one is made).
    """
    ensure_organiser(actor, challenge)
    if kind not in ExportKind.values:
        raise DomainError(f"Unknown export kind {kind!r}; use roster, submissions or results.", code="invalid",
                          details={"field": "kind"})
    if kind == ExportKind.ROSTER:
        if phase is not None:
            raise DomainError("A roster covers the whole challenge: leave out the phase.", code="invalid",
                              details={"field": "phase"})
    elif phase is None:
        raise DomainError(f"A {kind} export needs a phase.", code="invalid", details={"field": "phase"})
    elif phase.track.challenge_id != challenge.pk:
        raise NotFound(f"No phase {phase.pk} in '{challenge.slug}'.", code="not_found", details={"field": "phase"})
    if kind == ExportKind.RESULTS:
        split = split or default_split(phase)
        if split not in RESULT_SPLITS:
            raise DomainError(f"Unknown board {split!r}; use public or private.", code="invalid",
                              details={"field": "split"})
        board_to_read(phase, split, organiser=True)  # a phase scored on its hidden split has no public board
    elif split:
        raise DomainError("Only results tables take a split.", code="invalid", details={"field": "split"})
    split = split or ""
    pending = Export.objects.filter(challenge=challenge, phase=phase, kind=kind, split=split,
                                    created_at__gte=timezone.now() - PENDING_REUSE,
                                    status__in=[ExportStatus.QUEUED, ExportStatus.BUILDING]).first()
    if pending is not None:
        return pending
    export = Export.objects.create(challenge=challenge, phase=phase, kind=kind, split=split, requested_by=actor)
    audit_record(actor=actor, action="export.request", target=export, challenge=challenge,
                 details={"kind": kind, "phase": phase.pk if phase else None, "split": split})
    export_id = export.pk
    transaction.on_commit(lambda: export_dispatch(export_id=export_id))
    return export


def export_dispatch(*, export_id: int) -> bool:
    """Send the build task; False when the broker does not answer (the export stays queued)."""
    try:
        current_app.send_task(BUILD_TASK, args=[export_id], queue="default", retry=True,
                              retry_policy=PUBLISH_RETRY_POLICY)
    except BROKER_ERRORS as exc:
        log.warning("broker unavailable, export %s stays queued: %s", export_id, exc)
        return False
    return True


def _start(export_id: int) -> Export | None:
    """Mark the export as building; None when it is already done (a duplicate message)."""
    with transaction.atomic():
        export = (Export.objects.select_for_update(of=("self",)).select_related("challenge", "phase__track")
                  .filter(pk=export_id).first())
        if export is None or export.status in (ExportStatus.READY, ExportStatus.FAILED):
            return None
        export.status = ExportStatus.BUILDING
        export.save(update_fields=["status"])
    return export


def _write(export: Export, target) -> None:
    if export.kind == ExportKind.SUBMISSIONS:
        builders.submissions_zip(export.phase, target)
    elif export.kind == ExportKind.RESULTS:
        target.write(builders.results_csv(export.phase, export.split))
    else:
        target.write(builders.roster_csv(export.challenge))


def export_build(*, export_id: int) -> str:
    """Build one export's file and store it; returns the export's status.

    Safe to run twice: a finished export is left as it is, and of two builds racing, the
    second to finish throws its file away.
    """
    export = _start(export_id)
    if export is None:
        return "skipped"
    try:
        with tempfile.TemporaryFile() as spool:
            _write(export, spool)
            sha256, size = sha256_of(spool)
            key = default_storage.save(export.file.field.generate_filename(export, _file_name(export)),
                                       File(spool))
    except Exception as exc:  # not retried: any failure ends this export, with a message for the organiser
        log.exception("export %s failed", export_id)
        export_fail(export_id=export_id, error=BUILD_FAILED if not isinstance(exc, DomainError) else exc.message)
        return ExportStatus.FAILED
    with transaction.atomic():
        current = Export.objects.select_for_update().get(pk=export_id)
        if current.status != ExportStatus.BUILDING:
            transaction.on_commit(lambda: default_storage.delete(key))
            return "skipped"
        current.file.name, current.size, current.sha256 = key, size, sha256
        current.status, current.finished_at, current.error = ExportStatus.READY, timezone.now(), ""
        current.save(update_fields=["file", "size", "sha256", "status", "finished_at", "error"])
    return ExportStatus.READY


def export_fail(*, export_id: int, error: str) -> bool:
    """Record a terminal failure with a message the organiser can act on."""
    return bool(Export.objects.filter(pk=export_id, status__in=[ExportStatus.QUEUED, ExportStatus.BUILDING])
                .update(status=ExportStatus.FAILED, error=error, finished_at=timezone.now()))


def export_download_link(*, actor: Any, export: Export) -> ExportLink:
    """A short-lived signed link to a ready export's file."""
    ensure_organiser(actor, export.challenge)
    if export.status != ExportStatus.READY or not export.file:
        raise Conflict(f"Export {export.pk} is {export.status}, not ready.", code="export_not_ready")
    seconds = settings.ARENA_DOWNLOAD_URL_SECONDS
    expires_at = timezone.now() + timedelta(seconds=seconds)
    url = signed_download_url(export.file.name, seconds=seconds, filename=_file_name(export))
    return ExportLink(url=url, expires_at=expires_at)

