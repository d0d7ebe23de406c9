"""Teams: a participant acts for one team per challenge."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower


def new_invite_code() -> str:
    return secrets.token_urlsafe(12)


class Team(models.Model):
    challenge = models.ForeignKey("challenges.Challenge", on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=100)
    invite_code = models.CharField(max_length=32, unique=True, default=new_invite_code)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["challenge", "name"]
        constraints = [
            models.UniqueConstraint("challenge", Lower("name"), name="team_name_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.name


class TeamRole(models.TextChoices):
    OWNER = "owner", "Owner"
    MEMBER = "member", "Member"


class TeamMembership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships"
    )
    # Copied from the team so that the database enforces one team per challenge per person.
    challenge = models.ForeignKey("challenges.Challenge", on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=16, choices=TeamRole.choices, default=TeamRole.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)
    announcement_emails = models.BooleanField(
        default=True, help_text="Whether the organisers' announcements of the challenge are e-mailed to this member."
    )

    class Meta:
        ordering = ["team", "joined_at"]
        constraints = [
            models.UniqueConstraint(fields=["challenge", "user"], name="one_team_per_challenge"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"
