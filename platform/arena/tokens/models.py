"""A personal API token. Only a digest of the secret is stored; the token itself is shown once."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="Where the token is used, e.g. 'lab server'.")
    #: The visible part of the token (``arena_<prefix>_...``): finds the row without the secret.
    prefix = models.CharField(max_length=16, unique=True)
    #: sha256 (hex) of the whole token.
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], condition=Q(revoked_at__isnull=True),
                                    name="api_token_active_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (arena_{self.prefix}_…)"
