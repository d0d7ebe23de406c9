"""Exports organisers download: a phase's submissions, a challenge's roster, a results table.

Built by a worker into one stored file, then offered through short-lived signed links.
"""

from django.conf import settings
from django.db import models

from arena.core.keys import private_key


def _export_key(instance, filename: str) -> str:
    return private_key("exports", filename)


class ExportKind(models.TextChoices):
    ROSTER = "roster", "Roster (CSV)"
    SUBMISSIONS = "submissions", "Submissions (zip)"
    RESULTS = "results", "Results table (CSV)"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    BUILDING = "building", "Building"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class Export(models.Model):
    challenge = models.ForeignKey("challenges.Challenge", on_delete=models.CASCADE, related_name="exports")
    phase = models.ForeignKey("challenges.Phase", null=True, blank=True, on_delete=models.CASCADE,
                              related_name="exports", help_text="Submissions and results tables only.")
    kind = models.CharField(max_length=16, choices=ExportKind.choices)
    split = models.CharField(max_length=16, blank=True, help_text="Results tables only: the board exported.")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    status = models.CharField(max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    file = models.FileField(upload_to=_export_key, max_length=500, blank=True)
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True, help_text="Why the build failed.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind=ExportKind.ROSTER) | models.Q(phase__isnull=False),
                name="export_of_a_phase_names_it",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} ({self.status})"
