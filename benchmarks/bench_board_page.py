"""Benchmark of the leaderboard HTML page (run by hand; not part of the test suite).

Pages per second under gunicorn (wrk when installed, else a threaded Python client) for a phase holding
10,000 scored submissions of 1,000 teams (first page: 100 rows), side by side in one run:

- ``before``: the page as it was (every read fetches and renders its 100 rows), kept here verbatim;
- ``after-uncached``: today's page (direction headers, entry dates, search, progression, interval and tie
  group columns) with its shared table rendered on every read (no table cache): the simplest path;
- ``after-table-cached``: today's page with its table rendered once per board refresh and page, the rest of
  the page rendered per read;
- ``after``: today's page as served: besides, the whole page kept per web process by ETag for anonymous
  readers (``arena.leaderboards.caching.board_bodies``), so a read of an unchanged board renders nothing.

Rounds alternate the variants so a noisy machine slows them alike; medians are reported. Needs PostgreSQL;
creates and drops its own database (its name must end in ``_bench``):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/arena_board_bench .venv/bin/python benchmarks/bench_board_page.py
"""

# The page as it was is kept verbatim below, long template lines included.
# ruff: noqa: E501
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "platform"), str(REPO / "benchmarks")]

from bench_pipeline import measure_reads, recreate_database, start, stop, wait_http  # noqa: E402

# The page as it was before the board-page work, verbatim (view and template), for the side-by-side.
BEFORE_TEMPLATE = """{% extends "base.html" %}
{% block title %}Leaderboard · {{ phase.title }} · {{ track.title }}{% endblock %}
{% block content %}
<p class="meta"><a href="{% url 'challenge-detail' challenge.slug %}">{{ challenge.title }}</a> /
  <a href="{% url 'track-detail' challenge.slug track.slug %}">{{ track.title }}</a> /
  <a href="{% url 'phase-page' challenge.slug track.slug phase.slug %}">{{ phase.title }}</a></p>
<h1>Leaderboard: {{ phase.title }}</h1>
<nav aria-label="Leaderboard split" class="meta">
  {% for s in visible_splits %}{% if s == split %}<strong aria-current="page">{{ s|capfirst }}</strong>{% else %}<a href="?split={{ s }}">{{ s|capfirst }}</a>{% endif %}{% if not forloop.last %} · {% endif %}{% endfor %}
  {% if not refusal %}{% if visible_splits %} · {% endif %}<a href="{% url 'leaderboard-csv-page' challenge.slug track.slug phase.slug %}?split={{ split }}">Download CSV</a>{% endif %}
</nav>
<p class="meta" id="board-rule">{{ board_rule }}</p>
{% if refusal %}<p class="message error" role="alert">{{ refusal }}</p>{% else %}
{% if frozen_at %}<p class="message" id="frozen-note">Frozen: entries submitted from {{ frozen_at|date:"Y-m-d H:i" }} UTC on appear when the results are revealed.</p>{% endif %}
<p class="meta">Ranked by <code>{{ scorer.primary_metric }}</code> ({% if scorer.greater_is_better %}higher is better{% else %}lower is better{% endif %}){% if track.tie_break_metrics %}, ties broken by {{ track.tie_break_metrics|join:", " }}{% endif %}. {{ entry_rule }}</p>
{% if robustness_summary %}<p class="meta" id="robustness-rule">Robustness evaluation: the score is the {{ robustness_summary }} of the scores under the conditions {{ condition_names|join:", " }}, shown in their own columns.</p>{% endif %}
<div class="table-scroll"><table id="leaderboard">
  <thead><tr><th scope="col">Rank</th>{% if split == "private" %}<th scope="col">Public rank</th>{% endif %}<th scope="col">Team</th><th scope="col">Method</th><th scope="col">{{ scorer.primary_metric }}</th>{% for m in metric_names %}<th scope="col">{{ m }}</th>{% endfor %}{% for c in condition_names %}<th scope="col" class="condition" title="{{ scorer.primary_metric }} under condition {{ c }}">{{ c }}</th>{% endfor %}<th scope="col">Entries</th>{% for q in questions %}<th scope="col" title="{{ q.text }}">{{ q.key }}</th>{% endfor %}</tr></thead>
  <tbody>
  {% for e in entries %}
    <tr{% if e.is_baseline %} class="baseline"{% endif %}><td>{% if e.is_baseline %}<span class="badge">baseline</span>{% else %}{{ e.rank }}{% endif %}</td>
      {% if split == "private" %}<td>{{ e.public_rank|default:"" }}</td>{% endif %}
      <td>{% if e.is_baseline %}Organisers{% else %}{{ e.team_name }}{% endif %}</td><td>{{ e.method_name }}</td>
      <td class="score">{{ e.score|floatformat:4 }}</td>{% for v in e.metric_values %}<td>{{ v|floatformat:4 }}</td>{% endfor %}{% for v in e.condition_values %}<td class="condition">{% if v is None %}<span title="failed under this condition">failed</span>{% else %}{{ v|floatformat:4 }}{% endif %}</td>{% endfor %}
      <td>{% if not e.is_baseline %}{{ e.entries_count }}{% endif %}</td>{% for v in e.answer_values %}<td>{{ v }}</td>{% endfor %}</tr>
  {% empty %}<tr><td colspan="6">No scored entries yet.</td></tr>{% endfor %}
  </tbody>
</table></div>
{% if page.has_other_pages %}<nav aria-label="Leaderboard pages" class="meta">
  {% if page.has_previous %}<a href="?split={{ split }}&amp;page={{ page.previous_page_number }}">Previous</a>{% endif %}
  Page {{ page.number }} of {{ page.paginator.num_pages }}
  {% if page.has_next %}<a href="?split={{ split }}&amp;page={{ page.next_page_number }}">Next</a>{% endif %}
</nav>{% endif %}
{% endif %}
{% endblock %}
"""


def before_page(request, slug: str, track_slug: str, phase_slug: str):
    """The board page view as it was (verbatim but for the template, given inline above)."""
    from django.core.paginator import Paginator
    from django.http import HttpResponse
    from django.template import engines

    import scorers
    from arena.challenges.visibility import FROZEN, default_split, describe_board, describe_entry_rule
    from arena.core.errors import DomainError
    from arena.factsheets.selectors import factsheet_questions
    from arena.leaderboards.selectors import (
        leaderboard_board,
        leaderboard_for_phase,
        leaderboard_protocol,
        leaderboard_visible_splits,
    )
    from arena.leaderboards.views import _phase
    from arena.submissions.robustness_chart import SUMMARY_WORDS

    template = engines["django"].from_string(BEFORE_TEMPLATE)

    def render(request, context, status=200):
        return HttpResponse(template.render(context, request), status=status)

    phase = _phase(request, slug, track_slug, phase_slug)
    split = request.GET.get("split") or default_split(phase)
    scorer = scorers.get_scorer(phase.track.scorer_key)
    context = {"phase": phase, "track": phase.track, "challenge": phase.track.challenge, "split": split,
               "scorer": scorer, "visible_splits": leaderboard_visible_splits(phase, request.user),
               "board_rule": describe_board(phase), "entry_rule": describe_entry_rule(phase)}
    try:
        entries = leaderboard_for_phase(phase=phase, split=split, user=request.user)
        if leaderboard_board(phase=phase, split=split, user=request.user) == FROZEN:
            context["frozen_at"] = phase.frozen_at
    except DomainError as exc:
        context["refusal"] = exc.message
        return render(request, context, status=exc.status)
    metric_names = [m for m in scorer.metric_names if m != scorer.primary_metric]
    questions = list(factsheet_questions(phase).filter(on_leaderboard=True))
    page = Paginator(entries, 100).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    protocol = leaderboard_protocol(phase)
    condition_names = protocol.names if protocol is not None else []
    for entry in rows:
        entry.metric_values = [entry.metrics.get(m) for m in metric_names]
        entry.condition_values = [(entry.conditions or {}).get(c) for c in condition_names]
        entry.answer_values = [entry.answers.get(q.key, "") for q in questions]
    context.update(entries=rows, page=page, metric_names=metric_names, questions=questions,
                   condition_names=condition_names,
                   robustness_summary=SUMMARY_WORDS[protocol.summary] if protocol is not None else "")
    return render(request, context)


def _without_stored_pages(view):
    """``view`` with the store of full answers (``arena.leaderboards.caching.board_bodies``) off."""
    from arena.leaderboards import caching

    class NoBodies(caching.BoardBodies):
        max_bytes = 0

    def wrapped(request, *args):
        kept, caching.board_bodies = caching.board_bodies, NoBodies()
        try:  # gunicorn's sync workers serve one request at a time: the swap is private to this request
            return view(request, *args)
        finally:
            caching.board_bodies = kept

    return wrapped


def uncached_page(request, slug: str, track_slug: str, phase_slug: str):
    """Today's page with its shared table rendered on every read (no table cache, no stored page)."""
    from django.core.cache.backends.dummy import DummyCache

    from arena.leaderboards import views

    kept, views.cache = views.cache, DummyCache("bench", {})
    try:
        return _without_stored_pages(views.leaderboard_page)(request, slug, track_slug, phase_slug)
    finally:
        views.cache = kept


def table_cached_page(request, slug: str, track_slug: str, phase_slug: str):
    """Today's page with its table cached per board refresh, but no stored full page."""
    from arena.leaderboards import views

    return _without_stored_pages(views.leaderboard_page)(request, slug, track_slug, phase_slug)


def _urlpatterns():
    from django.urls import include, path

    board = "c/<slug:slug>/t/<slug:track_slug>/p/<slug:phase_slug>/leaderboard/"
    return [path(f"bench/before/{board}", before_page), path(f"bench/uncached/{board}", uncached_page),
            path(f"bench/table-cached/{board}", table_cached_page), path("", include("arena.config.urls"))]


if os.environ.get("BENCH_BOARD_PAGE_WSGI") == "1":  # imported by gunicorn as this benchmark's site
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    from django.conf import settings

    urlpatterns = _urlpatterns()
    settings.ROOT_URLCONF = "bench_board_page"


def setup_django(var_dir: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "arena.config.settings.local"
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["ARENA_VAR_DIR"] = var_dir
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_board(*, submissions: int, teams: int) -> dict:
    """A MER discrete phase with ``submissions`` scored entries over ``teams`` teams, a baseline, and
    statistics on every row (as the statistics task leaves them)."""
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from arena.challenges.models import Challenge, Phase, Track
    from arena.leaderboards.models import LeaderboardEntry, LeaderboardSnapshot, StoredEntry
    from arena.leaderboards.services import leaderboard_refresh
    from arena.submissions.models import Submission, SubmissionScore
    from arena.teams.models import Team

    rng = random.Random(11)
    now = timezone.now()
    challenge = Challenge.objects.create(slug="bench", title="Bench", starts_at=now - timedelta(days=30),
                                         ends_at=now + timedelta(days=30), is_published=True)
    track = Track.objects.create(challenge=challenge, slug="discrete", title="Discrete", scorer_key="mer.discrete")
    phase = Phase(track=track, slug="board", title="Board", opens_at=now - timedelta(days=30),
                  closes_at=now + timedelta(days=10))
    phase.reference_public.save("public.csv", ContentFile(b"name,discrete\ns1,happy\n"), save=False)
    phase.reference_private.save("private.csv", ContentFile(b"name,discrete\ns2,sad\n"), save=False)
    phase.save()
    team_ids = [t.pk for t in Team.objects.bulk_create(
        [Team(challenge=challenge, name=f"Team {i:05d}") for i in range(teams)])]
    subs = Submission.objects.bulk_create(
        [Submission(phase=phase, team_id=team_ids[i % teams], method_name=f"method {i}", status="scored")
         for i in range(submissions)] + [Submission(phase=phase, method_name="Official baseline", status="scored",
                                                    is_baseline=True)], batch_size=2000)
    # Spread over the phase so the progression has a history.
    for start_at in range(0, len(subs), 2000):
        batch = subs[start_at:start_at + 2000]
        for i, sub in enumerate(batch):
            sub.created_at = now - timedelta(minutes=(len(subs) - start_at - i) * 3)
        Submission.objects.bulk_update(batch, ["created_at"])
    scores = []
    for sub in subs:
        for split in ("public", "private"):
            value = 0.5 if sub.is_baseline else rng.random()
            scores.append(SubmissionScore(submission=sub, split=split, score=value,
                                          metrics={"waf": value, "accuracy": rng.random()}))
    SubmissionScore.objects.bulk_create(scores, batch_size=5000)
    leaderboard_refresh(phase_id=phase.pk)
    entries = list(LeaderboardEntry.objects.filter(phase=phase))
    for e in entries:
        if not e.is_baseline:
            e.statistics = {"interval": {"low": e.score - 0.02, "high": e.score + 0.02, "level": 0.95},
                            "p_vs_next": rng.random(), "rank_range": [max(1, e.rank - 3), e.rank + 3],
                            "tie_group": 1 + e.position // 7}
    StoredEntry.objects.bulk_update([StoredEntry(pk=e.pk, statistics=e.statistics) for e in entries], ["statistics"],
                                    batch_size=2000)
    fields = {f.name for f in LeaderboardSnapshot._meta.get_fields()}
    if "statistics_refreshed_at" in fields:
        LeaderboardSnapshot.objects.filter(phase=phase).update(statistics_refreshed_at=timezone.now())
    return {"path": "c/bench/t/discrete/p/board/leaderboard/"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=10_000)
    parser.add_argument("--teams", type=int, default=1_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8787)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") or not url.endswith("_bench"):
        raise SystemExit("set DATABASE_URL=postgres://.../<name>_bench (the database is dropped and re-created)")
    import socket

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", args.port)) == 0:
            raise SystemExit(f"port {args.port} is already in use; pass --port with a free one")
    recreate_database(url)
    var_dir = tempfile.mkdtemp(prefix="arena-board-bench-")
    setup_django(var_dir)
    print(f"filling a board with {args.submissions} submissions of {args.teams} teams...", flush=True)
    board = make_board(submissions=args.submissions, teams=args.teams)
    env = {**os.environ, "PYTHONPATH": f"{REPO}:{REPO / 'platform'}:{REPO / 'benchmarks'}",
           "BENCH_BOARD_PAGE_WSGI": "1"}
    base = f"http://127.0.0.1:{args.port}"
    urls = {"before": f"{base}/bench/before/{board['path']}", "after-uncached": f"{base}/bench/uncached/{board['path']}",
            "after-table-cached": f"{base}/bench/table-cached/{board['path']}", "after": f"{base}/{board['path']}"}
    web = start([sys.executable, "-m", "gunicorn", "bench_board_page:application", "-b", f"127.0.0.1:{args.port}",
                 "-w", str(args.gunicorn_workers), "--access-logfile", "/dev/null"], env, Path(var_dir) / "web.log")
    results: dict[str, list[float]] = {name: [] for name in urls}
    loads: list[float] = []
    sizes = {}
    tool = ""
    try:
        wait_http(f"{base}/")
        import requests

        for name, page in urls.items():  # warm every worker (and, for "after", its table cache)
            for _ in range(4 * args.gunicorn_workers):
                response = requests.get(page, timeout=30)
                response.raise_for_status()
            sizes[name] = len(response.content)
        for round_number in range(args.rounds):
            for name, page in urls.items():
                loads.append(os.getloadavg()[0])
                rps, tool = measure_reads(page, args.seconds, args.connections)
                results[name].append(rps)
                print(f"round {round_number + 1}: {name}: {rps:.1f} pages/s (load {loads[-1]:.1f})", flush=True)
                time.sleep(1)
    finally:
        stop(web)
    summary = {
        "pages_per_s_median": {name: round(statistics.median(v), 1) for name, v in results.items()},
        "pages_per_s_rounds": {name: [round(x, 1) for x in v] for name, v in results.items()},
        "page_bytes": sizes, "submissions": args.submissions, "teams": args.teams, "rows_per_page": 100,
        "gunicorn_workers": args.gunicorn_workers, "connections": args.connections, "seconds": args.seconds,
        "load_tool": tool, "cpus": os.cpu_count(), "load_average_range": [min(loads), max(loads)],
    }
    print(json.dumps(summary, indent=2))
    from django.db import connections

    connections.close_all()
    recreate_database(url)  # leave nothing large behind
    return 0


if __name__ == "__main__":
    sys.exit(main())
