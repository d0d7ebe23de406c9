"""The submission page's charts in a real browser (Playwright driving Debian's Chromium), drawn by the
vendored Chart.js from the page's own static files, with every request off this site blocked."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import urlparse

import pytest
from django.utils import timezone

from arena.challenges.activity import challenge_timeline
from arena.challenges.selectors import challenge_with_tracks
from tests.browser.test_participant_journey import browser_page  # noqa: F401  (the fixture)
from tests.platform.factories import PhaseFactory, UserFactory
from tests.platform.test_robust_scoring import _container_world, _expected_conditions, _score_held
from tests.platform.test_submission_breakdowns import _scored

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# The drawn pixels of a canvas (alpha > 0), and the colour at the centre of the heat map's "angry" cell.
def _ms(iso: str) -> float:
    """An ISO time as the epoch milliseconds the charts' time axes use."""
    return datetime.fromisoformat(iso).timestamp() * 1000


PAINTED = """canvas => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) { painted++; } }
  return painted;
}"""
CELL = """([canvas, x, y]) => {
  const chart = Chart.getChart(canvas);
  const cell = chart.getDatasetMeta(0).data.find((c, i) => chart.data.datasets[0].data[i].x === x
                                                  && chart.data.datasets[0].data[i].y === y);
  const centre = cell.getCenterPoint(), ratio = chart.currentDevicePixelRatio;
  // A pixel off the centre: the centre holds the count's text.
  return Array.from(canvas.getContext("2d").getImageData(Math.round((centre.x + cell.width / 2 - 4) * ratio),
                                                         Math.round((centre.y) * ratio), 1, 1).data);
}"""


def test_submission_page_draws_the_heat_map_and_bars_offline(live_server, browser_page, tmp_path):  # noqa: F811
    page = browser_page
    member = UserFactory(username="ada")
    submission = _scored("mer.discrete", member=member)
    base = live_server.url
    own = urlparse(base).netloc
    blocked: list[str] = []

    def only_this_site(route) -> None:
        if urlparse(route.request.url).netloc == own:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_site)
    page.goto(f"{base}/accounts/login/?next=/submissions/{submission.pk}/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "pw-for-tests-123")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/submissions/{submission.pk}/")

    heatmap = page.locator("canvas[data-chart='chart-public-confusion'][data-drawn]")
    bars = page.locator("canvas[data-chart='chart-public-classes'][data-drawn]")
    heatmap.wait_for()
    bars.wait_for()
    assert page.evaluate("c => Chart.getChart(c).config.type", heatmap.element_handle()) == "matrix"
    assert page.evaluate("c => Chart.getChart(c).data.datasets.map(d => d.label)", bars.element_handle()) == [
        "precision", "recall", "f1"]
    assert page.evaluate(PAINTED, heatmap.element_handle()) > 5000
    # Rows in the table's order: the first reference class (neutral) at the top.
    assert page.evaluate("c => { const y = Chart.getChart(c).scales.y; return y.getPixelForValue(0) < "
                         "y.getPixelForValue(5); }", heatmap.element_handle())
    assert page.evaluate(PAINTED, bars.element_handle()) > 5000
    # angry -> angry holds the most samples (1, as do happy -> happy and the rest of the diagonal's
    # non-empty cells): filled dark blue; an empty cell stays clear.
    full = page.evaluate(CELL, [heatmap.element_handle(), "angry", "angry"])
    empty = page.evaluate(CELL, [heatmap.element_handle(), "neutral", "neutral"])
    assert full[3] > 200 and full[2] > full[0], full
    assert empty[3] < 60, empty
    assert page.get_attribute("canvas[data-chart='chart-public-confusion']", "role") == "img"
    assert page.locator("#confusion-public").count() == 1  # the table alternative, in a <details>
    heatmap.scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "submission-charts.png"), full_page=True)
    assert (tmp_path / "submission-charts.png").stat().st_size > 0

    # The phase page: the team's score history, a line per visible split.
    phase = submission.phase
    page.goto(f"{base}/c/{phase.track.challenge.slug}/t/{phase.track.slug}/p/{phase.slug}/")
    history = page.locator("canvas[data-chart='chart-score-history'][data-drawn]")
    history.wait_for()
    assert page.evaluate("c => Chart.getChart(c).data.datasets.map(d => [d.label, d.data.length])",
                         history.element_handle()) == [["public", 1]]
    assert page.evaluate(PAINTED, history.element_handle()) > 1000
    history.scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "score-history.png"))
    # The timeline helper other pages use (e.g. a challenge's phases), drawn from a spec like theirs.
    painted = page.evaluate("""() => {
      const canvas = document.createElement("canvas"); canvas.width = 600; canvas.height = 160;
      document.querySelector("main").appendChild(canvas);
      const chart = ArenaCharts.draw(canvas, {type: "timeline", title: "Phases", now: "2026-03-10T00:00:00Z",
        items: [{label: "Validation", start: "2026-03-01T00:00:00Z", end: "2026-03-15T00:00:00Z"},
                {label: "Test", start: "2026-03-15T00:00:00Z", end: "2026-03-22T00:00:00Z"}]});
      const x = chart.scales.x;
      return [chart.config.type, canvas.getAttribute("aria-label"), canvas.getAttribute("data-drawn"),
              x.min, x.max, x.ticks.map(t => x.options.ticks.callback(t.value))];
    }""")
    assert painted[:3] == ["bar", "Phases", "1"]
    # The time axis spans the items with a margin of 3% of their three weeks (not from 1970), dates as dates.
    first, last = _ms("2026-03-01T00:00:00Z"), _ms("2026-03-22T00:00:00Z")
    margin = (last - first) * 0.03
    assert painted[3:5] == [first - margin, last + margin]
    assert painted[5] and all(re.fullmatch(r"2026-0[23]-\d\d", tick) for tick in painted[5]), painted[5]
    # "now" outside the items widens the axis to hold its line.
    span = page.evaluate("""() => {
      const canvas = document.createElement("canvas"); canvas.width = 600; canvas.height = 120;
      document.querySelector("main").appendChild(canvas);
      const x = ArenaCharts.draw(canvas, {type: "timeline", now: "2026-04-01T00:00:00Z",
        items: [{label: "Test", start: "2026-03-15T00:00:00Z", end: "2026-03-22T00:00:00Z"}]}).scales.x;
      return [x.min, x.max];
    }""")
    first, last = _ms("2026-03-15T00:00:00Z"), _ms("2026-04-01T00:00:00Z")
    assert span == [first - (last - first) * 0.03, last + (last - first) * 0.03]
    assert blocked == []


def test_va_submission_draws_both_density_maps(live_server, browser_page, tmp_path):  # noqa: F811
    page = browser_page
    submission = _scored("abaw.va", member=UserFactory(username="ada"))
    base = live_server.url
    page.route("**/*", lambda route: route.continue_() if urlparse(route.request.url).netloc == urlparse(
        base).netloc else route.abort())
    page.goto(f"{base}/accounts/login/?next=/submissions/{submission.pk}/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "pw-for-tests-123")
    page.click("main button[type=submit]")
    for dimension in ("valence", "arousal"):
        canvas = page.locator(f"canvas[data-chart='chart-public-{dimension}'][data-drawn]")
        canvas.wait_for()
        assert page.evaluate("c => Chart.getChart(c).data.datasets[0].data.length", canvas.element_handle()) == 400
        assert page.evaluate(PAINTED, canvas.element_handle()) > 5000
    page.locator("#breakdown-public").screenshot(path=str(tmp_path / "va-density.png"))


def _only_this_site(page, base: str) -> list[str]:
    """Block every request off this site; the list fills with what was blocked."""
    own, blocked = urlparse(base).netloc, []

    def route(request_route) -> None:
        if urlparse(request_route.request.url).netloc == own:
            request_route.continue_()
        else:
            blocked.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    return blocked


def test_challenge_page_draws_the_phase_timeline_and_the_submission_page_the_robustness_lines(
        live_server, browser_page, tmp_path):  # noqa: F811
    page = browser_page
    base = live_server.url
    blocked = _only_this_site(page, base)
    phase, submission, users = _container_world()
    _score_held(submission)
    challenge = phase.track.challenge
    now = timezone.now()
    PhaseFactory(track=phase.track, title="Next round", opens_at=now + timedelta(days=5),
                 closes_at=now + timedelta(days=12))
    steps = challenge_timeline(challenge_with_tracks(challenge), now)

    page.goto(f"{base}/c/{challenge.slug}/")
    timeline = page.locator("canvas[data-chart='chart-phase-timeline'][data-drawn]")
    timeline.wait_for()
    drawn = page.evaluate("""c => { const chart = Chart.getChart(c);
      return [chart.config.type, chart.data.labels, chart.data.datasets[0].borderWidth, chart.scales.x.min,
              chart.scales.x.max]; }""", timeline.element_handle())
    assert drawn[0] == "bar"
    assert drawn[1] == [step.label for step in steps] and len(steps) == 2
    assert drawn[2] == [2 if step.state == "current" else 0 for step in steps]
    assert sorted(step.state for step in steps) == ["current", "upcoming"]
    # The axis holds every phase and now, within a small margin.
    low = min(step.opens_at for step in steps).timestamp() * 1000
    high = max(step.closes_at for step in steps).timestamp() * 1000
    assert low - (high - low) * 0.031 < drawn[3] < low and high < drawn[4] < high + (high - low) * 0.031
    assert page.evaluate(PAINTED, timeline.element_handle()) > 2000
    assert page.locator("ol.timeline li[aria-current='step']").count() == 1  # the text alternative stays
    page.screenshot(path=str(tmp_path / "challenge-timeline.png"))
    assert (tmp_path / "challenge-timeline.png").stat().st_size > 0

    page.goto(f"{base}/accounts/login/?next=/submissions/{submission.pk}/")
    page.fill("#id_username", users["member"].username)
    page.fill("#id_password", "pw-for-tests-123")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/submissions/{submission.pk}/")
    curve = page.locator("canvas[data-chart='chart-public-robustness'][data-drawn]")
    curve.wait_for()
    datasets = page.evaluate("c => Chart.getChart(c).data.datasets.map(d => [d.label, d.data.map(p => [p.x, p.y])])",
                             curve.element_handle())
    public = {c["name"]: c["score"] for c in _expected_conditions("public")}
    assert datasets == [["noise:white", [[0, public["clean"]], [1, public["snr10"]], [2, None]]],
                        ["blur", [[0, public["clean"]], [1, public["blur4"]]]]]
    assert page.evaluate(PAINTED, curve.element_handle()) > 2000
    # With scripts on, the server-drawn SVG inside <noscript> is not shown.
    assert page.locator("#robustness-public svg").count() == 0
    curve.scroll_into_view_if_needed()
    page.locator("#robustness-public").screenshot(path=str(tmp_path / "robustness-lines.png"))
    assert (tmp_path / "robustness-lines.png").stat().st_size > 0
    assert blocked == []
