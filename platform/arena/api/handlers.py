"""Django's error views, answering in the API's JSON error shape for paths under /api/.

Other paths keep Django's default pages. ``api_not_found`` also closes the /api/v1/ URL space, so an
unknown endpoint is a JSON 404 even where DEBUG shows Django's technical page elsewhere.
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from arena.api.errors import error_body, server_error_body

API_PREFIX = "/api/"
#: The database went away (restart, failover, network): the request may simply be sent again.
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError)
UNAVAILABLE_MESSAGE = "The service is briefly unavailable (its database does not answer); try again in a few seconds."


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


@csrf_exempt  # answers every method with a 404; a CSRF refusal would hide that in an HTML page
def api_not_found(request, *args, **kwargs) -> JsonResponse:
    return JsonResponse(error_body(
        "not_found", f"No API endpoint at {request.path}; the endpoints are listed at /api/v1/docs."), status=404)


def bad_request(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body("bad_request", "The request could not be read: check its size, headers "
                                                      "and encoding."), status=400)
    return defaults.bad_request(request, exception)


def page_not_found(request, exception=None):
    if _is_api(request):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def server_error(request):
    # Django calls this while handling the exception, so the exception is at hand.
    if isinstance(sys.exc_info()[1], UNAVAILABLE_ERRORS):
        return service_unavailable(request)
    if _is_api(request):
        body, status = server_error_body()
        return JsonResponse(body, status=status)
    return defaults.server_error(request)


def service_unavailable(request):
    """503 with Retry-After: nothing was changed, and the same request can be sent again."""
    retry_after = str(settings.ARENA_RETRY_AFTER_SECONDS)
    if _is_api(request) or "application/json" in request.headers.get("Accept", ""):
        response = JsonResponse(error_body("service_unavailable", UNAVAILABLE_MESSAGE,
                                           {"retry_after_seconds": int(retry_after)}), status=503)
    else:
        response = HttpResponse(f"<!doctype html><title>Briefly unavailable</title><p>{UNAVAILABLE_MESSAGE}</p>",
                                status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = retry_after
    return response
