"""A team's standing in its challenge: licence acceptance and organiser approval."""

from django.conf import settings
from django.db import models

from arena.core.keys import private_key


def _agreement_key(instance, filename: str) -> str:
    return private_key("signed-agreements", filename)


class ParticipationStatus(models.TextChoices):
    PENDING = "pending", "Waiting for organiser approval"
    APPROVED = "approved", "Approved"
    DENIED = "denied", "Denied"
    REVOKED = "revoked", "Revoked"


class Participation(models.Model):
    team = models.OneToOneField("teams.Team", on_delete=models.CASCADE, related_name="participation")
    challenge = models.ForeignKey(
        "challenges.Challenge", on_delete=models.CASCADE, related_name="participations"
    )
    status = models.CharField(
        max_length=16, choices=ParticipationStatus.choices, default=ParticipationStatus.PENDING
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["challenge", "-requested_at"]
        indexes = [models.Index(fields=["challenge", "status"])]

    def __str__(self) -> str:
        return f"{self.team} ({self.get_status_display()})"


class LicenceAcceptance(models.Model):
    """A team member's acceptance of one licence version, on behalf of the team."""

    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="licence_acceptances")
    licence = models.ForeignKey("challenges.Licence", on_delete=models.PROTECT, related_name="acceptances")
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    full_name = models.CharField(max_length=200)
    affiliation = models.CharField(max_length=200)
    accepted_on = models.DateField()
    signed_agreement = models.FileField(upload_to=_agreement_key, max_length=500, blank=True)
    agreement_size = models.BigIntegerField(default=0)
    agreement_sha256 = models.CharField(max_length=64, blank=True)
    agreement_uploaded_at = models.DateTimeField(null=True, blank=True)
    agreement_uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: Organisers' approval of this acceptance, for dataset licences that require it.
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["team", "licence"], name="one_acceptance_per_licence"),
        ]

    def __str__(self) -> str:
        return f"{self.team} accepted {self.licence}"


class ChallengeBar(models.Model):
    """A person the organisers shut out of a challenge, whatever team they are in, until lifted.

    Made for every member of a team whose participation is revoked.
    """

    challenge = models.ForeignKey("challenges.Challenge", on_delete=models.CASCADE, related_name="bars")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="challenge_bars")
    #: The team the person was in when barred (copied: the team may be deleted later).
    team_name = models.CharField(max_length=100, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["challenge", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["challenge", "user"], condition=models.Q(lifted_at__isnull=True),
                name="one_active_bar_per_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} barred from {self.challenge}"

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None
