"""Django's error views, answering in the API's JSON error shape for paths under /api/.

Other paths keep Django's default pages. ``api_not_found`` also closes the /api/v1/ URL space, so an
unknown endpoint is a JSON 404 even where DEBUG shows Django's technical page elsewhere.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from arena.api.errors import error_body, server_error_body

API_PREFIX = "/api/"


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
    if _is_api(request):
        body, status = server_error_body()
        return JsonResponse(body, status=status)
    return defaults.server_error(request)
