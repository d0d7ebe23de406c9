"""Anonymous board reads answered before sessions, URL resolving and DRF.

A GET of a board (the API's page of rows and CSV, ``api:leaderboard``/``api:leaderboard-csv``; the board page and
its CSV link, ``leaderboard-page``/``leaderboard-csv-page``) that carries no cookie and no ``Authorization`` header
is an anonymous reader's: a script, a feed, a shared cache revalidating what it holds. Its answer depends on the
path and the query alone. When that answer needs no rendering (a 304, or the full answer this process already
stored under the board's current ETag) this middleware gives it from the same reads, rules and validators as the
views (``leaderboard_read``, ``board_page_read``, ``unrendered_board_response``), after the API view's throttles
have counted the request; every other request (credentials, cookies, an ``Accept`` other than anything, a host
name the site does not serve, a refusal, a board changed since, a throttled client) goes on to the view, which
answers it in full and reuses what was read here.

What it saves is the framework around a 304: URL resolving, the session, CSRF, authentication and message
middleware, DRF's negotiation and dispatch (``docs/benchmarks/board-reads.md``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import DisallowedHost
from django.db import DatabaseError, connection
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.urls import converters, reverse
from django.utils.cache import patch_vary_headers

from arena.core.errors import DomainError
from arena.leaderboards.caching import board_page_read, unrendered_board_response

#: Sample values for each route's parameters: the routes are found by reversing their names with them and putting
#: the converters' patterns in their place.
_SAMPLES = {"phase_id": (918273645, converters.IntConverter.regex),
            "slug": ("sample-challenge-0", converters.SlugConverter.regex),
            "track_slug": ("sample-track-1", converters.SlugConverter.regex),
            "phase_slug": ("sample-phase-2", converters.SlugConverter.regex)}


def _pattern(name: str, parameters: tuple[str, ...]) -> re.Pattern:
    path = re.escape(reverse(name, kwargs={p: _SAMPLES[p][0] for p in parameters}))
    for parameter in parameters:
        sample, regex = _SAMPLES[parameter]
        path = path.replace(re.escape(str(sample)), f"(?P<{parameter}>{regex})", 1)
    return re.compile(path)


class AnonymousBoardReadsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self._routes: list[tuple[re.Pattern, Callable]] | None = None
        self._common, self._frame_options = CommonMiddleware(get_response), XFrameOptionsMiddleware(get_response)

    def routes(self) -> list[tuple[re.Pattern, Callable]]:
        """(path pattern, answer) of each board route, from the URL configuration."""
        if self._routes is None:
            from arena.leaderboards.api.views import LeaderboardCsvView, LeaderboardView

            page = ("slug", "track_slug", "phase_slug")
            self._routes = [
                (_pattern("api:leaderboard", ("phase_id",)), partial(self._api, LeaderboardView, "api")),
                (_pattern("api:leaderboard-csv", ("phase_id",)), partial(self._api, LeaderboardCsvView, "csv")),
                (_pattern("leaderboard-page", page), partial(self._page, "html")),
                (_pattern("leaderboard-csv-page", page), partial(self._page, "csv")),
            ]
        return self._routes

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        if (request.method in ("GET", "HEAD") and not meta.get("HTTP_COOKIE") and not meta.get("HTTP_AUTHORIZATION")
                and meta.get("HTTP_ACCEPT", "*/*") == "*/*"):
            response = self._answer(request)
            if response is not None:
                return response
        return self.get_response(request)

    def _answer(self, request: HttpRequest) -> HttpResponse | None:
        path = request.path  # as ``reverse`` writes it, with the script prefix
        for pattern, answer in self.routes():
            match = pattern.fullmatch(path)
            if match is None:
                continue
            try:
                request.get_host()
            except DisallowedHost:
                return None  # the site's own 400
            request.user = AnonymousUser()
            # The reads are the connection's health check (``CONN_HEALTH_CHECKS`` would send one more query
            # first): if a database restart broke it, their error passes the request on, and the view's path
            # checks the connection and opens a new one.
            connection.health_check_done = True
            try:
                response = answer(request, **match.groupdict())
            except DatabaseError:
                connection.health_check_done = False
                return None
            if response is None:
                return None
            # What the common and clickjacking middleware add to the views' answers (Content-Length,
            # X-Frame-Options).
            return self._frame_options.process_response(request, self._common.process_response(request, response))
        return None

    def _api(self, view_class: type, representation: str, request: HttpRequest, *,
             phase_id: str) -> HttpResponse | None:
        from arena.leaderboards.api.views import leaderboard_read

        try:
            read_before = leaderboard_read(request, int(phase_id), representation=representation)
        except (Http404, DomainError):
            return None  # the view's own answer
        request.board_read_before_view = read_before  # if the view answers after all, it reads nothing again
        response = unrendered_board_response(request, read_before[0], representation=representation)
        if response is None:
            return None
        view = view_class()
        view.setup(request, phase_id=int(phase_id))
        view.headers = {}
        if not all(throttle.allow_request(request, view) for throttle in view.get_throttles()):
            return None  # the view answers 429
        # What DRF adds to the view's own answers.
        response["Allow"] = ", ".join(view.allowed_methods)
        patch_vary_headers(response, ("Accept",))
        return response

    def _page(self, representation: str, request: HttpRequest, **slugs: str) -> HttpResponse | None:
        page_read = board_page_read(request, representation=representation, **slugs)
        if page_read is None:
            return None  # the view's own 404
        request.board_read_before_view = page_read
        read, extra, _ = page_read
        return unrendered_board_response(request, read, representation=representation, extra=extra)
