"""Writing the audit log. Called from inside the service that made the change."""

from __future__ import annotations

from typing import Any

from django.db import models

from arena.audit.models import AuditEntry


def audit_record(
    *,
    actor: Any | None,
    action: str,
    target: models.Model | None = None,
    challenge: Any | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Store one audit entry; ``actor`` may be None for the system (reconciler, loader)."""
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        challenge=challenge,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        details=details or {},
    )
