"""The submission state machine. The only code that writes ``Submission.status``.

    submitted -> queued -> running (container only) -> scoring -> scored
                                                    \\-> failed | cancelled

Every transition is a compare-and-set (an UPDATE guarded by the current status), so it is
idempotent and safe when two workers, a reconciler and an organiser act at the same time.

Each move to ``queued`` draws a new claim token, which the task message carries. A worker
claims the submission with that token and holds it under a lease it renews while it works;
every later step of the run is guarded by the token too. A duplicate or late message, or a
worker whose lease was taken back, holds a stale token: its compare-and-set matches no row
and it stops, so one submission never runs twice at the same time.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from arena.submissions.models import Submission, SubmissionStatus

S = SubmissionStatus

#: Which states each state may move to.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.SUBMITTED: frozenset({S.QUEUED, S.FAILED, S.CANCELLED}),
    S.QUEUED: frozenset({S.QUEUED, S.RUNNING, S.SCORING, S.FAILED, S.CANCELLED}),
    S.RUNNING: frozenset({S.QUEUED, S.SCORING, S.FAILED, S.CANCELLED}),
    S.SCORING: frozenset({S.QUEUED, S.SCORED, S.FAILED, S.CANCELLED}),
    # Organisers re-run finished submissions after fixing a reference.
    S.SCORED: frozenset({S.QUEUED}),
    S.FAILED: frozenset({S.QUEUED}),
    S.CANCELLED: frozenset({S.QUEUED}),
}
ANY_STATE = tuple(TRANSITIONS)
HELD_STATES = (S.RUNNING, S.SCORING)


def _sources_for(target: str) -> list[str]:
    return [source for source, targets in TRANSITIONS.items() if target in targets]


#: ``token`` of a transition that does not depend on who holds the submission (organisers, cancellations).
UNGUARDED = object()


def _transition(submission_id: int, *, to: str, sources: Iterable[str], token=UNGUARDED, **fields) -> bool:
    """Move ``submission_id`` to ``to`` if its status is one of ``sources`` and, unless ``token`` is
    UNGUARDED, its claim token is ``token`` (None matches rows queued before tokens existed).
    True when it moved."""
    allowed = set(_sources_for(to))
    sources = [s for s in sources if s in allowed]
    rows = Submission.objects.filter(pk=submission_id, status__in=sources)
    if token is not UNGUARDED:
        rows = rows.filter(claim_token=token)
    return rows.update(status=to, status_changed_at=timezone.now(), **fields) == 1


def lease_deadline():
    return timezone.now() + timedelta(seconds=settings.ARENA_LEASE_SECONDS)


def submission_mark_queued(*, submission_id: int, sources: Iterable[str] = (S.SUBMITTED,),
                           token=UNGUARDED) -> uuid.UUID | None:
    """submitted -> queued with a new claim token, waiting to be dispatched; pass ``sources`` to
    re-queue from other states (re-runs, reconciler), and ``token`` to take it back only from the holder
    of that token. Returns the new token, or None if it did not move."""
    new_token = uuid.uuid4()
    moved = _transition(
        submission_id, to=S.QUEUED, sources=sources, token=token, queued_at=timezone.now(), claim_token=new_token,
        dispatched_at=None, dispatch_count=0, lease_expires_at=None,
        started_at=None, scoring_started_at=None, finished_at=None, failure_cause="",
    )
    return new_token if moved else None


def submission_claim(*, submission_id: int, token: uuid.UUID | None, to: str) -> bool:
    """queued -> running (a container) or scoring, for the holder of the current token; counts an attempt
    and starts the lease."""
    now = timezone.now()
    started = {"started_at": now} if to == S.RUNNING else {"scoring_started_at": now}
    return _transition(submission_id, to=to, sources=[S.QUEUED], token=token, attempts=F("attempts") + 1,
                       lease_expires_at=lease_deadline(), **started)


def submission_renew_lease(*, submission_id: int, token: uuid.UUID) -> bool:
    """Extend the lease while the holder works. False once the submission is no longer held with ``token``."""
    return Submission.objects.filter(pk=submission_id, status__in=HELD_STATES, claim_token=token).update(
        lease_expires_at=lease_deadline()) == 1


def submission_release(*, submission_id: int, token: uuid.UUID) -> uuid.UUID | None:
    """running/scoring -> queued after a transient fault (the database or storage went away): the attempt is
    given back and the submission is dispatched again. Returns the new token."""
    new_token = uuid.uuid4()
    moved = _transition(
        submission_id, to=S.QUEUED, sources=HELD_STATES, token=token, claim_token=new_token,
        attempts=F("attempts") - 1, dispatched_at=None, dispatch_count=0, lease_expires_at=None,
        queued_at=timezone.now(), started_at=None, scoring_started_at=None,
    )
    return new_token if moved else None


def submission_mark_scoring(*, submission_id: int, token: uuid.UUID) -> bool:
    """running -> scoring once the model wrote its predictions; the lease goes on."""
    return _transition(submission_id, to=S.SCORING, sources=[S.RUNNING], token=token,
                       scoring_started_at=timezone.now(), lease_expires_at=lease_deadline())


def submission_mark_scored(*, submission_id: int, token: uuid.UUID) -> bool:
    return _transition(
        submission_id, to=S.SCORED, sources=[S.SCORING], token=token, lease_expires_at=None,
        finished_at=timezone.now(), error_message="", error_detail="",
    )


def submission_mark_failed(
    *, submission_id: int, message: str, detail: str = "", sources: Iterable[str] | None = None,
    token=UNGUARDED, cause: str = "",
) -> bool:
    """Any in-flight state -> failed, with a message the team can act on and the ``cause`` (a
    ``FailureCause``). Use ``arena.submissions.services.failure.submission_fail``, which also tells the
    people concerned."""
    return _transition(
        submission_id, to=S.FAILED, token=token,
        sources=sources if sources is not None else [S.SUBMITTED, S.QUEUED, S.RUNNING, S.SCORING],
        finished_at=timezone.now(), error_message=message, error_detail=detail, lease_expires_at=None,
        failure_cause=cause,
    )


def submission_mark_cancelled(*, submission_id: int, message: str) -> bool:
    return _transition(
        submission_id, to=S.CANCELLED, sources=[S.SUBMITTED, S.QUEUED, S.RUNNING, S.SCORING],
        finished_at=timezone.now(), error_message=message, lease_expires_at=None,
    )


#: What a task reports for a submission that no longer exists (deleted with its challenge, say): its
#: messages end quietly instead of raising.
GONE = "gone"


def submission_status(submission_id: int) -> str:
    """The submission's status now, or ``GONE``."""
    status = Submission.objects.filter(pk=submission_id).values_list("status", flat=True).first()
    return status if status is not None else GONE
