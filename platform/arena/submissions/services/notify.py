"""E-mails to a team when its submission is scored or fails, and to organisers when their set-up fails it."""

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


def notify_organisers_of_misconfiguration(*, phase, submission_ids: list[int], detail: str) -> None:
    """Tell the challenge's organisers that submissions could not be scored because of the phase's set-up:
    how many, which, and what the first one said."""
    challenge = phase.track.challenge
    emails = [email for email in challenge.organisers.values_list("email", flat=True) if email]
    count = len(submission_ids)
    where = f"{phase.track.title} / {phase.title}"
    subject = (f"[{challenge.title}] {where}: a submission could not be scored" if count == 1 else
               f"[{challenge.title}] {where}: {count} submissions could not be scored")
    listed = ", ".join(f"#{pk}" for pk in submission_ids[:50]) + (" and more" if count > 50 else "")
    body = (f"{count} submission(s) to {where} failed because of the phase's configuration, not the teams' "
            f"files: {listed}.\n\nSubmission #{submission_ids[0]} failed with:\n\n{detail}\n\n"
            f"Fix the phase or track in the admin: once the readiness check passes, these submissions are queued "
            f"again by themselves. Readiness: {settings.SITE_URL}/c/{challenge.slug}/readiness/\n"
            f"Further failures of this phase are summarised in at most one e-mail an hour.\n")
    send_notice_on_commit(subject=subject, body=body, to=emails)
