"""The leaderboard page in a real browser (Playwright driving Debian's Chromium): the team search filters the
rows as one types (baselines stay), the reader's own row stands out, and the top-10 progression is drawn by
the vendored Chart.js from the site's own static files."""

from __future__ import annotations

from datetime import timedelta

import pytest

from arena.leaderboards.services import leaderboard_refresh
from tests.browser.test_participant_journey import browser_page  # noqa: F401  (the fixture)
from tests.platform.factories import PhaseFactory, TeamFactory, UserFactory
from tests.platform.test_board_page import T0, scored

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_search_box_filters_rows_as_one_types(live_server, browser_page, tmp_path):  # noqa: F811
    page = browser_page
    member = UserFactory(username="ada")
    phase = PhaseFactory(track__scorer_key="mer.multi")
    challenge = phase.track.challenge
    names = ["Affect Lab", "Bravo Minds", "Charlie", "Affective Computing Group", "Delta"]
    for i, name in enumerate(names):
        team = TeamFactory(challenge=challenge, name=name, members=[member] if name == "Charlie" else [])
        scored(phase, team, 0.9 - i / 10, at=T0 + timedelta(hours=i))
    scored(phase, None, 0.55, at=T0, baseline=True, method="Official baseline")
    leaderboard_refresh(phase_id=phase.pk)
    client_login(page, live_server.url, member)
    page.goto(f"{live_server.url}/c/{challenge.slug}/t/{phase.track.slug}/p/{phase.slug}/leaderboard/")

    rows = page.locator("#leaderboard tbody tr")
    visible = page.locator("#leaderboard tbody tr:visible td.team")
    assert rows.count() == 6
    assert page.locator("tr[data-own-team] td.team").inner_text() == "Charlie (your team)"
    page.fill("#board-q", "affect")
    assert visible.all_inner_texts() == ["Affect Lab", "Affective Computing Group", "Organisers"]
    assert page.inner_text("#board-q-status") == ("2 of 5 teams on this page match; press Enter to search every "
                                                  "page.")
    page.screenshot(path=str(tmp_path / "board-search.png"), full_page=True)
    page.fill("#board-q", "")
    assert visible.count() == 6
    page.wait_for_function("document.querySelector('canvas[data-chart=\"progression-chart\"]')"
                           ".getAttribute('data-drawn') === '1'")
    # Enter searches the whole board on the server.
    page.fill("#board-q", "delta")
    page.press("#board-q", "Enter")
    page.wait_for_url("**q=delta**")
    assert visible.all_inner_texts() == ["Organisers", "Delta"]
    assert (tmp_path / "board-search.png").stat().st_size > 0


def client_login(page, base: str, user) -> None:
    """Sign ``user`` in through the browser's session cookie."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": base}])
