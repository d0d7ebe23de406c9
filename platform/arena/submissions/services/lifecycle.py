"""The submission state machine. The only code that writes ``Submission.status``.

    submitted -> queued -> running (container only) -> scoring -> scored
                                                    \\-> failed | cancelled

Every transition is a compare-and-set (an UPDATE guarded by the current status), so it is
idempotent and safe when two workers, a reconciler and an organiser act at the same time.
"""

from __future__ import annotations

from collections.abc import Iterable

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


def _sources_for(target: str) -> list[str]:
    return [source for source, targets in TRANSITIONS.items() if target in targets]


def _transition(submission_id: int, *, to: str, sources: Iterable[str], **fields) -> bool:
    """Move ``submission_id`` to ``to`` if its status is one of ``sources``. True when it moved."""
    allowed = set(_sources_for(to))
    sources = [s for s in sources if s in allowed]
    now = timezone.now()
    updated = Submission.objects.filter(pk=submission_id, status__in=sources).update(
        status=to, status_changed_at=now, **fields
    )
    return updated == 1


ANY_STATE = tuple(TRANSITIONS)


def submission_mark_queued(*, submission_id: int, sources: Iterable[str] = (S.SUBMITTED,)) -> bool:
    """submitted -> queued; pass ``sources`` to re-queue from other states (re-runs, reconciler)."""
    return _transition(
        submission_id, to=S.QUEUED, sources=sources, queued_at=timezone.now(),
        started_at=None, scoring_started_at=None, finished_at=None,
    )


def submission_mark_running(*, submission_id: int) -> bool:
    return _transition(submission_id, to=S.RUNNING, sources=[S.QUEUED], started_at=timezone.now())


def submission_mark_scoring(*, submission_id: int) -> bool:
    """queued or running -> scoring. A redelivered task finds the row already in scoring: it may
    take over only when it says so explicitly (``submission_resume_scoring``)."""
    return _transition(
        submission_id, to=S.SCORING, sources=[S.QUEUED, S.RUNNING], scoring_started_at=timezone.now()
    )


def submission_mark_scored(*, submission_id: int) -> bool:
    return _transition(
        submission_id, to=S.SCORED, sources=[S.SCORING],
        finished_at=timezone.now(), error_message="", error_detail="",
    )


def submission_mark_failed(
    *, submission_id: int, message: str, detail: str = "", sources: Iterable[str] | None = None
) -> bool:
    """Any in-flight state -> failed, with a message the team can act on."""
    return _transition(
        submission_id, to=S.FAILED,
        sources=sources if sources is not None else [S.SUBMITTED, S.QUEUED, S.RUNNING, S.SCORING],
        finished_at=timezone.now(), error_message=message, error_detail=detail,
    )


def submission_mark_cancelled(*, submission_id: int, message: str) -> bool:
    return _transition(
        submission_id, to=S.CANCELLED, sources=[S.SUBMITTED, S.QUEUED, S.RUNNING, S.SCORING],
        finished_at=timezone.now(), error_message=message,
    )
