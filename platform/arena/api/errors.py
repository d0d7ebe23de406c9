"""One JSON error shape for the whole API: ``{"code", "message", "details"}``.

Domain errors keep their code and status; DRF's own errors (validation, authentication,
throttling, not found) are translated into the same shape; nothing leaks a stack trace.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from arena.core.errors import DomainError

_DRF_CODES = {
    exceptions.NotAuthenticated: ("not_authenticated", "Sign in or send an API token: Authorization: Token <token>."),
    exceptions.AuthenticationFailed: ("authentication_failed", None),
    exceptions.PermissionDenied: ("permission_denied", None),
    exceptions.NotFound: ("not_found", None),
    exceptions.MethodNotAllowed: ("method_not_allowed", None),
    exceptions.NotAcceptable: ("not_acceptable", None),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", None),
    exceptions.Throttled: ("throttled", None),
    exceptions.ParseError: ("parse_error", None),
}


NOT_FOUND_HINT = ("Not found, or not visible to you: check the id or slug in the address; "
                  "GET /api/v1/challenges lists the challenges, tracks and phase ids you can see.")


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    return {"code": code, "message": message, "details": details or {}}


def api_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(NOT_FOUND_HINT)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real server error: Django's 500 handling (and logging) takes over
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        first = next(iter(fields.items()), ("", [""]))
        hint = first[1][0] if isinstance(first[1], list) and first[1] else first[1]
        where = "" if first[0] in ("", "non_field_errors") else f"{first[0]}: "
        response.data = error_body("invalid", f"Invalid input — {where}{hint}", {"fields": fields})
        return response
    code, message = "error", None
    for klass, (klass_code, klass_message) in _DRF_CODES.items():
        if isinstance(exc, klass):
            code, message = klass_code, klass_message
            break
    if isinstance(exc, exceptions.AuthenticationFailed):
        # Token authentication names why a token was refused (unknown, revoked, expired...).
        code = getattr(exc.detail, "code", None) or code
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    body = error_body(code, message or str(detail))
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        body["details"]["retry_after_seconds"] = int(exc.wait)
    response.data = body
    return response


def server_error_body() -> tuple[dict, int]:
    return (
        error_body("server_error", "Something went wrong on our side; it was logged. Try again later."),
        status.HTTP_500_INTERNAL_SERVER_ERROR,
    )
