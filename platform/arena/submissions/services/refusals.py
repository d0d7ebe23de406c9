"""The brake on refused uploads.

A refused upload (a file that does not parse, the wrong keys, a broken archive) uses none of the
team's limits, so a team could otherwise send thousands of them: to probe, or by a script gone
wrong. Each team may make a number of them per hour and phase; past it, uploads are refused until
the oldest refusal of the hour is an hour old. Organisers see the refusals in the admin, and an
audit entry when a team reaches the cap.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from arena.audit.services import audit_record
from arena.challenges.models import Phase
from arena.core.errors import DomainError, QuotaExceeded
from arena.submissions.models import RefusedUpload
from arena.teams.models import Team

WINDOW = timedelta(hours=1)
#: Refusals for the upload's content: counted by the brake (none of them uses a limit).
CONTENT_REFUSALS = (400, 413, 415, 422)


def refused_per_hour(phase: Phase) -> int:
    return phase.max_refused_per_hour or settings.ARENA_REFUSED_UPLOADS_PER_HOUR


def _recent(team: Team, phase: Phase, now: datetime):
    return RefusedUpload.objects.filter(team=team, phase=phase, created_at__gt=now - WINDOW)


def submission_refusal_brake(*, team: Team, phase: Phase, now: datetime | None = None) -> None:
    """Refuse (429) a team that made the phase's number of refused uploads in the last hour."""
    now = now or timezone.now()
    cap = refused_per_hour(phase)
    recent = list(_recent(team, phase, now).order_by("created_at").values_list("created_at", flat=True)[:cap])
    if len(recent) >= cap:
        retry_at = recent[0] + WINDOW
        raise QuotaExceeded(
            f"Your team's last {cap} uploads to this phase were refused within an hour; check your file first "
            f"(python -m scorers validate) and upload again after {retry_at:%H:%M} UTC.",
            code="refused_uploads_limit",
            details={"limit": "refused_per_hour", "allowed": cap, "used": len(recent),
                     "retry_at": retry_at.isoformat()},
        )


def submission_refusal_record(*, user, team: Team, phase: Phase, refusal: DomainError) -> None:
    """Count a refused upload (in a transaction of its own: the refusal itself changes nothing else)."""
    with transaction.atomic():
        RefusedUpload.objects.create(team=team, phase=phase, user=user, code=refusal.code[:64])
        if _recent(team, phase, timezone.now()).count() == refused_per_hour(phase):
            audit_record(actor=user, action="submission.refused_uploads_limit", target=team,
                         challenge=phase.track.challenge,
                         details={"phase": phase.pk, "allowed": refused_per_hour(phase)})


@contextmanager
def submission_refusals_counted(*, user, team: Team, phase: Phase):
    """Count a refusal of the upload's content (format, keys, archive, size) raised inside the block."""
    try:
        yield
    except DomainError as exc:
        if exc.status in CONTENT_REFUSALS:
            submission_refusal_record(user=user, team=team, phase=phase, refusal=exc)
        raise
