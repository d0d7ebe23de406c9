"""What can go wrong, each with the exit code a script can test."""

from __future__ import annotations

from typing import Any

OK = 0
FAILURE = 1
USAGE = 2
AUTH = 3
NOT_FOUND = 4
REFUSED = 5
SUBMISSION_FAILED = 6
NETWORK = 7


class CliError(Exception):
    """An error reported as one line on stderr (and as JSON on stdout with ``--json``)."""

    exit_code = FAILURE
    code = "error"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None,
                 exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.details = details or {}
        if exit_code is not None:
            self.exit_code = exit_code

    def as_json(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details},
                "exit_code": self.exit_code}


class UsageError(CliError):
    exit_code = USAGE
    code = "usage"


class NotSignedIn(CliError):
    exit_code = AUTH
    code = "not_signed_in"


class NetworkError(CliError):
    exit_code = NETWORK
    code = "network_error"


class SubmissionFailed(CliError):
    exit_code = SUBMISSION_FAILED
    code = "submission_failed"


class ApiError(CliError):
    """A 4xx or 5xx answer of the server, carrying the server's own code and message."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, code=code, details=details, exit_code=exit_code_for_status(status))
        self.status = status

    def as_json(self) -> dict[str, Any]:
        body = super().as_json()
        body["status"] = self.status
        return body


def exit_code_for_status(status: int) -> int:
    if status == 401:
        return AUTH
    if status == 404:
        return NOT_FOUND
    if 400 <= status < 500:
        return REFUSED
    return NETWORK
