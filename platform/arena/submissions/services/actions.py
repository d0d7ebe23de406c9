"""Organiser and participant actions on submissions."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from arena.audit.services import audit_record
from arena.challenges.models import EntryRule
from arena.challenges.permissions import ensure_organiser
from arena.core.errors import Conflict, DomainError
from arena.leaderboards.services import leaderboard_lock_phase, leaderboard_refresh
from arena.submissions.models import (
    IN_FLIGHT_STATUSES,
    Submission,
    SubmissionScore,
    SubmissionStatus,
)
from arena.submissions.services import lifecycle
from arena.submissions.services.queueing import submission_enqueue
from arena.teams.models import Team, TeamMembership


@transaction.atomic
def submission_rerun(*, actor, submissions: QuerySet[Submission] | list[Submission]) -> int:
    """Score the given submissions again (e.g. after a reference fix). Returns how many were queued."""
    count = 0
    phases = set()
    for submission in submissions:
        ensure_organiser(actor, submission.phase.track.challenge)
        phases.add(submission.phase_id)
        SubmissionScore.objects.filter(submission=submission).delete()
        Submission.objects.filter(pk=submission.pk).update(attempts=0)
        if submission_enqueue(submission=submission, sources=lifecycle.ANY_STATE):
            count += 1
            audit_record(
                actor=actor, action="submission.rerun", target=submission,
                challenge=submission.phase.track.challenge,
            )
    for phase_id in phases:
        leaderboard_refresh(phase_id=phase_id)
    return count


@transaction.atomic
def submission_cancel(*, actor, submissions: QuerySet[Submission] | list[Submission]) -> int:
    """Cancel submissions still in flight. Finished ones are left alone. Returns how many changed."""
    count = 0
    for submission in submissions:
        ensure_organiser(actor, submission.phase.track.challenge)
        if submission.status not in IN_FLIGHT_STATUSES:
            continue
        if lifecycle.submission_mark_cancelled(
            submission_id=submission.pk, message="Cancelled by the organisers."
        ):
            count += 1
            audit_record(
                actor=actor, action="submission.cancel", target=submission,
                challenge=submission.phase.track.challenge,
            )
    return count


@transaction.atomic
def submission_cancel_own(*, user, submission: Submission) -> bool:
    """A team member cancels their team's submission while it is still waiting or being scored."""
    if not TeamMembership.objects.filter(team_id=submission.team_id, user=user).exists():
        raise DomainError("Only members of the submitting team can cancel it.", code="not_team_member", status=403)
    if submission.status not in IN_FLIGHT_STATUSES:
        raise Conflict(
            f"Submission #{submission.pk} is already {submission.status}; only waiting or running "
            "submissions can be cancelled.", code="not_cancellable",
        )
    changed = lifecycle.submission_mark_cancelled(submission_id=submission.pk, message="Cancelled by your team.")
    if changed:
        audit_record(actor=user, action="submission.cancel_own", target=submission,
                     challenge=submission.phase.track.challenge)
    return changed


@transaction.atomic
def submission_disqualify(*, actor, submissions, reason: str) -> int:
    """Take submissions off the leaderboard, with a reason the team sees."""
    reason = reason.strip()
    if not reason:
        raise DomainError("Give the team a reason for the disqualification; it is shown to them.",
                          code="reason_required", details={"field": "reason"})
    count = 0
    phases = set()
    for submission in submissions:
        ensure_organiser(actor, submission.phase.track.challenge)
        updated = Submission.objects.filter(pk=submission.pk, disqualified_at__isnull=True).update(
            disqualified_at=timezone.now(), disqualified_reason=reason)
        if updated:
            count += 1
            phases.add(submission.phase_id)
            audit_record(actor=actor, action="submission.disqualify", target=submission,
                         challenge=submission.phase.track.challenge, details={"reason": reason})
    for phase_id in phases:
        leaderboard_refresh(phase_id=phase_id)
    return count


@transaction.atomic
def submission_select(*, user, submission: Submission, selected: bool) -> bool:
    """Mark (or unmark) a scored submission as one of the team's final entries."""
    phase = submission.phase
    track = phase.track
    if phase.entry_rule != EntryRule.SELECTED:
        raise DomainError(f"In this phase {phase.get_entry_rule_display()[0].lower()}"
                          f"{phase.get_entry_rule_display()[1:]} counts; there is nothing to select.",
                          code="selection_not_used")
    if not TeamMembership.objects.filter(team_id=submission.team_id, user=user).exists():
        raise DomainError("Only members of the submitting team can select its entries.",
                          code="not_team_member", status=403)
    if submission.phase.closes_at <= timezone.now():
        raise DomainError("The phase has closed; final entries can no longer change.", code="phase_closed",
                          status=403)
    # Lock order: the phase, then the team (which serialises the limit check).
    leaderboard_lock_phase(phase_id=submission.phase_id)
    Team.objects.select_for_update(no_key=True).only("pk").get(pk=submission.team_id)
    submission.refresh_from_db()
    if submission.is_selected == selected:
        return False
    if selected:
        if submission.status != SubmissionStatus.SCORED or submission.disqualified_at:
            raise Conflict("Only scored, not disqualified submissions can be selected.", code="not_selectable")
        already = Submission.objects.filter(team_id=submission.team_id, phase=submission.phase,
                                            is_selected=True).count()
        if already >= phase.max_selected:
            raise Conflict(
                f"Your team has already selected {already} of at most {phase.max_selected} final entries; "
                "unselect one first.", code="selection_limit",
            )
    Submission.objects.filter(pk=submission.pk).update(is_selected=selected)
    audit_record(actor=user, action="submission.select" if selected else "submission.unselect",
                 target=submission, challenge=track.challenge)
    leaderboard_refresh(phase_id=submission.phase_id, team_ids=[submission.team_id])
    return True
