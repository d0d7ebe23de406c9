"""E-mails to a team when its submission is scored or fails."""

from __future__ import annotations

from django.conf import settings

from arena.challenges.visibility import visible_score_splits
from arena.core.mail import send_notice_on_commit
from arena.submissions.models import Submission, SubmissionStatus


def notify_team_of_result(*, submission_id: int) -> None:
    """Send the result to the team's members once the surrounding transaction commits."""
    submission = Submission.objects.select_related("phase__track__challenge", "team").get(pk=submission_id)
    if submission.team_id is None:
        return
    emails = list(submission.team.memberships.values_list("user__email", flat=True))
    if not emails:
        return
    track = submission.phase.track
    challenge = track.challenge
    link = f"{settings.SITE_URL}/submissions/{submission.pk}/"
    if submission.status == SubmissionStatus.SCORED:
        # The score only where the team may see it anyway: never for a hidden board before the reveal.
        public = None
        if "public" in visible_score_splits(submission.phase, organiser=False):
            public = submission.scores.filter(split="public").first()
        subject = f"[{challenge.title}] '{submission.method_name}' scored {public.score:.4f}" if public else \
            f"[{challenge.title}] '{submission.method_name}' is scored"
        body = (f"Your submission #{submission.pk} ('{submission.method_name}') to {track.title} / "
                f"{submission.phase.title} is scored.\n\nDetails: {link}\n")
    else:
        subject = f"[{challenge.title}] '{submission.method_name}' could not be scored"
        body = (f"Your submission #{submission.pk} ('{submission.method_name}') to {track.title} / "
                f"{submission.phase.title} failed:\n\n{submission.error_message}\n\n"
                f"It does not count against your limits. Details: {link}\n")
    send_notice_on_commit(subject=subject, body=body, to=emails)


def notify_organisers_of_misconfiguration(*, submission_id: int, detail: str) -> None:
    """Tell the challenge's organisers that a submission could not be scored because of the phase's set-up."""
    submission = Submission.objects.select_related("phase__track__challenge").get(pk=submission_id)
    phase = submission.phase
    challenge = phase.track.challenge
    emails = [email for email in challenge.organisers.values_list("email", flat=True) if email]
    subject = f"[{challenge.title}] {phase.track.title} / {phase.title}: a submission could not be scored"
    body = (f"Submission #{submission.pk} to {phase.track.title} / {phase.title} failed because of the phase's "
            f"configuration, not the team's file:\n\n{detail}\n\nFix the phase or track in the admin, then re-run "
            f"the failed submissions of the phase. Submission: {settings.SITE_URL}/admin/submissions/submission/"
            f"{submission.pk}/change/\n")
    send_notice_on_commit(subject=subject, body=body, to=emails)
