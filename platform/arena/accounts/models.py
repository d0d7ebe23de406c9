from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower


class User(AbstractUser):
    """A person: participant, organiser, or both. E-mail is required and unique."""

    email = models.EmailField("e-mail address", unique=True)
    affiliation = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.username


class HostingRequest(models.Model):
    """A person's request for the right to host challenges, decided by a site admin.

    The right itself is the site permission ``accounts.host_challenges`` on the person.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hosting_requests")
    affiliation = models.CharField(max_length=200)
    challenge_name = models.CharField(max_length=200, help_text="The challenge they mean to host.")
    reason = models.TextField(help_text="Who they are and why they want to host it.")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    granted = models.BooleanField(null=True, blank=True, help_text="Empty while the request waits.")

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("host_challenges", "May host challenges")]
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=Q(decided_at__isnull=True),
                                    name="hosting_request_one_open_per_user"),
            models.CheckConstraint(condition=Q(decided_at__isnull=True, granted__isnull=True)
                                   | Q(decided_at__isnull=False, granted__isnull=False),
                                   name="hosting_request_decided_with_outcome"),
        ]

    def __str__(self) -> str:
        return f"{self.user} hosting {self.challenge_name}"
