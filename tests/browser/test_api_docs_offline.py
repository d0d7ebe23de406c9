"""The API reference renders in a real browser with every request off this site blocked."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from tests.browser.test_participant_journey import browser_page  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_swagger_ui_renders_with_the_network_blocked(live_server, browser_page, tmp_path):  # noqa: F811
    page = browser_page
    own = urlparse(live_server.url).netloc
    blocked: list[str] = []

    def only_this_site(route) -> None:
        if urlparse(route.request.url).netloc == own:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_site)
    page.goto(f"{live_server.url}/api/v1/docs")
    # Swagger UI draws the API's title and its operations from /api/v1/schema.
    page.wait_for_selector(".swagger-ui .info .title")
    assert "AffectArena API" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock-summary-path")
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/v1/phases/" in p and "submissions" in p for p in paths), paths[:10]
    page.screenshot(path=str(tmp_path / "api-docs.png"), full_page=False)
    assert blocked == []
