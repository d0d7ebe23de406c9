"""What the API reference says about errors: the one error shape, and which statuses an endpoint answers."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorOut(serializers.Serializer):
    """Every error of the API (see ``arena.api.errors``)."""

    code = serializers.CharField(help_text="Stable, machine-readable, e.g. `daily_limit_reached`.")
    message = serializers.CharField(help_text="What went wrong and how to fix it, for a person.")
    details = serializers.DictField(help_text="Where: e.g. `{\"field\": \"file\", \"row\": 12}`; may be empty.")


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorOut, description=description)


#: The answers of the endpoints that create a submission, besides 200 (the same Idempotency-Key again) and 201.
SUBMIT_ERRORS = {
    400: _error("The request or the file cannot be used: a missing field, an unreadable or malformed file "
                "(`details` names the row and column), an unknown upload key."),
    401: _error("No valid token or session."),
    403: _error("Not allowed to submit here: not in a team of the challenge, licence not accepted, image "
                "registry not allowed."),
    404: _error("No such phase, or it is not visible to you."),
    409: _error("Not now: the phase is not open, too many submissions waiting to be scored, or a team "
                "change is pending."),
    413: _error("The upload is larger than the track's limit."),
    415: _error("The file's type or compression is not accepted by this track."),
    429: _error("A submission limit (daily, total, refused uploads) or the request rate was reached; "
                "`Retry-After` says when to try again where it applies."),
    503: _error("Storage, the database or the broker is briefly unavailable; retry with the same "
                "Idempotency-Key."),
}
