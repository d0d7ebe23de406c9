"""``/healthz`` and ``/metrics``: answered ahead of the rest of the site.

Load balancers, orchestrators and Prometheus call these by the address of one container, over plain
HTTP: with the host names of ``DJANGO_ALLOWED_HOSTS`` and the HTTPS redirect of production they
would get 400 or 301. So a middleware placed first answers both paths itself, before host
validation, the redirect, sessions and authentication; nothing else of the site is reachable that
way.

``/metrics`` answers 404, as to an unknown path, unless the request carries
``Authorization: Bearer <ARENA_METRICS_TOKEN>`` or comes straight (no ``X-Forwarded-For``: not
through the TLS proxy) from a network of ``ARENA_METRICS_ALLOWED_NETWORKS``. With neither set it
is off.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST

from arena.core.health import site_health
from arena.core.metrics import metrics_exposition

HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"


def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the database and the broker answer, else 503 naming what does not."""
    healthy, body = site_health()
    response = HttpResponse(json.dumps(body), status=200 if healthy else 503, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


def metrics_allowed(request: HttpRequest) -> bool:
    """Whether ``request`` may read the metrics: the bearer token, or a direct call from an allowed network."""
    token = settings.ARENA_METRICS_TOKEN
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return True
    networks = settings.ARENA_METRICS_ALLOWED_NETWORKS
    # Through the proxy, REMOTE_ADDR is the proxy's: a forwarded request never counts as local.
    if not networks or "X-Forwarded-For" in request.headers:
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network, strict=False) for network in networks)


def metrics(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        return HttpResponse("Not found.", status=404, content_type="text/plain")
    response = HttpResponse(metrics_exposition(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response


_PROBES = {HEALTH_PATH: healthz, METRICS_PATH: metrics}


class ProbesMiddleware:
    """Answers GET and HEAD of ``/healthz`` and ``/metrics``; passes everything else on."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = _PROBES.get(request.path_info.rstrip("/") or "/")
        if view is None or request.method not in {"GET", "HEAD"}:
            return self.get_response(request)
        return view(request)
