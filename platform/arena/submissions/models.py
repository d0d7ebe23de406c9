"""Submissions and their scores. Only arena.submissions.services.lifecycle changes ``status``."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from arena.challenges.models import SubmissionKind
from arena.core.keys import private_key


def _submission_key(instance, filename: str) -> str:
    return private_key("submissions", filename)


class SubmissionStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SCORING = "scoring", "Scoring"
    SCORED = "scored", "Scored"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class FailureCause(models.TextChoices):
    #: The team's file or model is at fault; the message says what to change.
    SUBMISSION = "submission", "The submission"
    #: The phase or track is misconfigured (reference, scorer options, assets, inputs): the organisers' problem.
    CONFIGURATION = "configuration", "The phase's configuration"
    #: The platform could not finish it (attempts used up, no sandbox host); the team may submit again.
    PLATFORM = "platform", "The platform"


IN_FLIGHT_STATUSES = (
    SubmissionStatus.SUBMITTED,
    SubmissionStatus.QUEUED,
    SubmissionStatus.RUNNING,
    SubmissionStatus.SCORING,
)
# Failed and cancelled submissions do not count against a team's limits.
COUNTED_STATUSES = (*IN_FLIGHT_STATUSES, SubmissionStatus.SCORED)


class Submission(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    phase = models.ForeignKey("challenges.Phase", on_delete=models.PROTECT, related_name="submissions")
    team = models.ForeignKey(
        "teams.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="submissions",
        help_text="Empty for organiser baselines.",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="submissions"
    )
    kind = models.CharField(max_length=16, choices=SubmissionKind.choices, default=SubmissionKind.FILE)
    status = models.CharField(
        max_length=16, choices=SubmissionStatus.choices, default=SubmissionStatus.SUBMITTED
    )
    status_changed_at = models.DateTimeField(auto_now_add=True)

    file = models.FileField(upload_to=_submission_key, max_length=500, blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    file_size = models.BigIntegerField(default=0)
    file_sha256 = models.CharField(max_length=64, blank=True)
    image_archive = models.FileField(upload_to=_submission_key, max_length=500, blank=True,
                                     help_text="A `docker save` archive of the submitted model.")
    image_reference = models.CharField(max_length=300, blank=True)
    image_digest = models.CharField(max_length=100, blank=True)

    method_name = models.CharField(max_length=100)
    method_description = models.TextField(blank=True)
    paper_url = models.URLField(blank=True)
    code_url = models.URLField(blank=True)

    is_baseline = models.BooleanField(default=False)
    is_selected = models.BooleanField(default=False, help_text="Chosen by the team as a final entry.")
    disqualified_at = models.DateTimeField(null=True, blank=True)
    disqualified_reason = models.TextField(blank=True)

    error_message = models.TextField(blank=True, help_text="Shown to the team: what went wrong, how to fix it.")
    error_detail = models.TextField(blank=True, help_text="Seen by organisers only.")
    failure_cause = models.CharField(
        max_length=16, choices=FailureCause.choices, blank=True,
        help_text="Whose problem a failure is; failures caused by the configuration re-queue once the phase is "
        "ready again.")
    logs = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    idempotency_key = models.CharField(max_length=100, blank=True)

    # Dispatch (an outbox) and the lease of the worker that holds the submission.
    claim_token = models.UUIDField(
        null=True, blank=True, editable=False,
        help_text="New each time the submission is queued; its task carries it, and only the holder of the "
        "current token may move the submission on (a late duplicate finds another token and stops).")
    dispatched_at = models.DateTimeField(
        null=True, blank=True, help_text="When its task was last sent; empty while it waits to be sent.")
    dispatch_count = models.PositiveSmallIntegerField(default=0)
    lease_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="The worker running it renews this; once past, the reconciler takes it back.")

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    scoring_started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["phase", "team", "status"]),
            models.Index(fields=["status", "status_changed_at"]),
            models.Index(fields=["status", "dispatched_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "idempotency_key"], condition=~Q(idempotency_key=""),
                name="submission_idempotency_key_unique",
            ),
            models.CheckConstraint(
                condition=Q(is_baseline=True) | Q(team__isnull=False), name="submission_has_team"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.method_name} ({self.status})"

    @property
    def is_in_flight(self) -> bool:
        return self.status in IN_FLIGHT_STATUSES


class ScoreSplit(models.TextChoices):
    PUBLIC = "public", "Public"
    PRIVATE = "private", "Private"


class SubmissionScore(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="scores")
    split = models.CharField(max_length=16, choices=ScoreSplit.choices)
    score = models.FloatField()
    metrics = models.JSONField(default=dict)
    breakdown = models.JSONField(default=dict, blank=True)
    #: On a phase with a robustness protocol, each condition in protocol order: name, condition spec,
    #: family, severity, score and metrics (a failed condition: score None, no metrics, its error).
    conditions = models.JSONField(default=list, blank=True)
    computed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["submission", "split"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "split"], name="one_score_per_split"),
        ]

    def __str__(self) -> str:
        return f"{self.submission_id} {self.split}: {self.score:.6f}"


class MisconfigurationAlert(models.Model):
    """When a phase's organisers were last alerted to submissions failing on its configuration, and the
    failures since, which the next alert (at most one an hour) summarises."""

    phase = models.OneToOneField("challenges.Phase", on_delete=models.CASCADE, related_name="misconfiguration_alert")
    sent_at = models.DateTimeField(null=True, blank=True)
    pending_count = models.PositiveIntegerField(default=0)
    pending_submission_ids = models.JSONField(default=list, blank=True)
    pending_detail = models.TextField(blank=True, help_text="What the first pending failure said (organisers only).")

    def __str__(self) -> str:
        return f"{self.phase_id}: {self.pending_count} pending"


class RefusedUpload(models.Model):
    """An upload refused for its content (format, keys, archive): it uses none of the team's limits, but
    a team may make only so many per hour and phase."""

    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="refused_uploads")
    phase = models.ForeignKey("challenges.Phase", on_delete=models.CASCADE, related_name="refused_uploads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    code = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["team", "phase", "created_at"])]

    def __str__(self) -> str:
        return f"{self.team_id} / {self.phase_id}: {self.code}"
