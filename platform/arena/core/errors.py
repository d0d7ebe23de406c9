"""The one exception type for domain errors: a code a script can test and a message a person can act on."""

from __future__ import annotations


class DomainError(Exception):
    """A refused action. ``code`` is stable and machine-readable; ``message`` says what to do."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details = details or {}


class PermissionDenied(DomainError):
    status = 403
    code = "permission_denied"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class QuotaExceeded(DomainError):
    status = 429
    code = "quota_exceeded"
