"""The submission page's charts in a real browser (Playwright driving Debian's Chromium), drawn by the
vendored Chart.js from the page's own static files, with every request off this site blocked."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from tests.browser.test_participant_journey import browser_page  # noqa: F401  (the fixture)
from tests.platform.factories import UserFactory
from tests.platform.test_submission_breakdowns import _scored

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# The drawn pixels of a canvas (alpha > 0), and the colour at the centre of the heat map's "angry" cell.
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
      return [chart.config.type, canvas.getAttribute("aria-label"), canvas.getAttribute("data-drawn")];
    }""")
    assert painted == ["bar", "Phases", "1"]
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
